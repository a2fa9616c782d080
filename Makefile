# Two entry points: `make demo` (the main job) and `make test` (the test suite). Each installs
# what it needs first (idempotent: a stamp in .venv, the mmcv wheel cached in ~/.cache/mmpointsam).
PY := .venv/bin/python
SHARED_NWPU ?= ../shared/data/nwpu_vhr10
# a real SAM checkpoint, e.g. checkpoints/mobile_sam.pt; "none" runs with random weights
SAM_CHECKPOINT ?= none
DEMO_IMAGES ?= 20
DEMO_ITERS ?= 20

.PHONY: install data demo test test-gpu lint env clean

install:
	@bash tools/install.sh

# data/nwpu_vhr10: images/ and annotations/ (links to the shared copy when there is one) and
# splits/{train,val}.json, the seeded validation split carved from the training split
data: install
	@mkdir -p data
	@if [ -L data/nwpu_vhr10 ]; then rm data/nwpu_vhr10; fi
	@mkdir -p data/nwpu_vhr10
	@for d in images annotations; do \
	  if [ ! -e data/nwpu_vhr10/$$d ]; then \
	    if [ -d $(SHARED_NWPU)/$$d ]; then ln -s $(abspath $(SHARED_NWPU))/$$d data/nwpu_vhr10/$$d; \
	    else echo "NWPU VHR-10 not found: put images/ and annotations/ in data/nwpu_vhr10"; exit 1; fi; \
	  fi; \
	done
	@if [ ! -f data/nwpu_vhr10/splits/val.json ]; then \
	  $(PY) tools/dataset_converters/split_train_val.py \
	    data/nwpu_vhr10/annotations/NWPU_instances_train.json data/nwpu_vhr10/splits \
	    --val-ratio 0.1 --seed 0; \
	fi

demo: install data
	@bash tools/demo.sh "$(SAM_CHECKPOINT)" $(DEMO_IMAGES) $(DEMO_ITERS)

# ruff (pyproject.toml): lint findings and unformatted files fail; interrogate: the package's
# docstring coverage under its threshold (pyproject.toml, [tool.interrogate]) fails
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m interrogate mmpointsam

test: install
	$(PY) -m pytest tests projects -q -p no:cacheprovider

# the GPU chain (mmcv CUDA ops, rotated detector, bf16 self-training, evaluation); needs a GPU
test-gpu: install
	$(PY) tools/collect_env.py
	$(PY) -m pytest tests/test_gpu -v -p no:cacheprovider

env: install
	$(PY) tools/collect_env.py

clean:
	rm -rf work_dirs
