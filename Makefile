# Two entry points: `make demo` (the main job) and `make test` (the test suite). Each installs
# what it needs first (idempotent: a stamp in .venv, the mmcv wheel cached in ~/.cache/mmpointsam).
PY := .venv/bin/python
SHARED_NWPU ?= ../shared/data/nwpu_vhr10
# a real SAM checkpoint, e.g. checkpoints/mobile_sam.pt; "none" runs with random weights
SAM_CHECKPOINT ?= none
DEMO_IMAGES ?= 20
DEMO_ITERS ?= 20

.PHONY: install data demo test clean

install:
	@bash tools/install.sh

data:
	@mkdir -p data
	@if [ ! -e data/nwpu_vhr10 ]; then \
	  if [ -d $(SHARED_NWPU) ]; then ln -s $(abspath $(SHARED_NWPU)) data/nwpu_vhr10; \
	  else echo "NWPU VHR-10 not found: put it in data/nwpu_vhr10 (images/, annotations/)"; exit 1; fi; \
	fi

demo: install data
	@bash tools/demo.sh "$(SAM_CHECKPOINT)" $(DEMO_IMAGES) $(DEMO_ITERS)

test: install
	$(PY) -m pytest tests -q -p no:cacheprovider

clean:
	rm -rf work_dirs
