"""Speed and memory of self-training, evaluation and conversion against the image encoder's cost.

Random weights, real NWPU VHR-10 images, CPU by default. Each measurement runs in its own
process so its peak resident memory is its own. The floor of a self-training iteration is one
no-grad encoder forward plus one LoRA encoder forward and backward, measured in the same run.

    python tools/benchmark/speed.py                      # vit_b, the issue's full table
    python tools/benchmark/speed.py --arch vit_t --only iteration
    python tools/benchmark/speed.py --only train-bf16    # floor, 1- and 50-object iteration,
                                                         # fp32 and bf16 training side by side
    python tools/benchmark/speed.py --device cuda --only train-bf16 batch --batches 4 8
    python tools/benchmark/speed.py --only attention --reps 1   # fused vs reference attention

bf16 training is ``optim_wrapper.type='BF16OptimWrapper'``: the floor's two encoder passes run
under bf16 autocast, the iteration through that wrapper. ``--device cuda`` also prints images/s
and peak GPU memory (untested here: written on a machine without a GPU).
"""

import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# NWPU training images: one object, 51 objects, and typical ones (5 to 7 objects)
ONE_OBJECT, MANY_OBJECTS = '089.jpg', '320.jpg'
TYPICAL = ['002.jpg', '003.jpg', '023.jpg', '026.jpg']


# ---------------------------------------------------------------------------------- children
def _sync(args):
    """Wait for queued GPU work before reading the clock (CPU: nothing to wait for)."""
    if args.device.startswith('cuda'):
        import torch

        torch.cuda.synchronize()


def _train_autocast(args):
    """bf16 autocast for the floor's encoder passes with ``--train-bf16``, else nothing."""
    import contextlib

    import torch

    if not args.train_bf16:
        return contextlib.nullcontext()
    return torch.autocast(args.device.split(':')[0], dtype=torch.bfloat16)


def _subset_json(data_root: str, names, out: str) -> str:
    with open(osp.join(data_root, 'annotations', 'NWPU_instances_train.json')) as f:
        coco = json.load(f)
    images = [img for img in coco['images'] if img['file_name'] in names]
    if len(images) != len(names):
        raise FileNotFoundError(f'images {names} not all in the NWPU training split')
    images.sort(key=lambda img: names.index(img['file_name']))
    ids = {img['id'] for img in images}
    coco = dict(
        coco, images=images, annotations=[a for a in coco['annotations'] if a['image_id'] in ids]
    )
    with open(out, 'w') as f:
        json.dump(coco, f)
    return out


def _build(args, config: str, names, max_instances=None, test=False, npc=False):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpointsam.models.sam.sam import DECODER_SETTINGS
    from mmpointsam.registry import DATASETS, MODELS
    from mmpointsam.utils import set_sam_checkpoint

    init_default_scope('mmpointsam')
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    set_sam_checkpoint(cfg, 'none')
    cfg.model.sam.arch = args.arch
    if args.arch == 'tiny' and cfg.model.sam.get('lora'):  # 2 blocks: LoRA on the second
        cfg.model.sam.lora.first_block = 1
    if args.arch.startswith('hiera_'):  # SAM 2.1: --arch hiera_t/hiera_s/hiera_b+/hiera_l
        cfg.model.sam.type = 'SAM2'
    if args.bf16:
        cfg.model.sam.encoder_autocast = 'bf16'
    if args.attention and cfg.model.sam.get('type', 'SAM') == 'SAM':
        cfg.model.sam.attention = args.attention
    if npc:  # as the point -> rbox converter runs it
        cfg.model.setdefault('test_cfg', {})
        cfg.model.test_cfg.npc = dict(type='NegativePromptCalibration', iou_thr=0.1)
    st = cfg.model.get('self_training')
    if st and st.get('prototype_loss'):
        st.prototype_loss.target_prototypes = None
        if args.arch == 'tiny':  # the narrow test decoder's features
            st.prototype_loss.dim = DECODER_SETTINGS['tiny']['embed_dim']
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if st and st.get('prototype_loss'):
        reg = model.self_training.prototype_loss
        dim = reg.bank.features.shape[-1]
        reg.set_targets(torch.randn(16, dim))
        # a full bank, as after the first 128 prompts of training: the PBR loss is active
        reg.bank.push(torch.randn(reg.bank.size, dim))
    model.to(args.device)
    tmp = tempfile.mkdtemp()
    loader = cfg.test_dataloader if test else cfg.train_dataloader
    ds_cfg = loader.dataset
    ds_cfg.update(
        data_root=args.data_root,
        data_prefix=dict(img='images/'),
        ann_file=_subset_json(args.data_root, names, osp.join(tmp, 'subset.json')),
    )
    for t in ds_cfg.pipeline:
        if t['type'] == 'SamplePointPrompts':
            t['max_instances'] = max_instances
    dataset = DATASETS.build(ds_cfg)
    return model, dataset


def _batch(dataset, indices):
    from mmengine.dataset import pseudo_collate

    return pseudo_collate([dataset[i] for i in indices])


def child_floor(args):
    """No-grad encoder forward and LoRA encoder forward+backward on one real image."""
    import torch

    model, dataset = _build(args, 'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', [ONE_OBJECT])
    model.train()
    data = model.data_preprocessor(_batch(dataset, [0]), True)
    images = data['inputs']['strong']
    fwd, fwdbwd = [], []
    for rep in range(args.reps + 1):
        _sync(args)
        t = time.perf_counter()
        with torch.no_grad(), _train_autocast(args):
            model.sam.encode(images)
        _sync(args)
        t1 = time.perf_counter()
        with _train_autocast(args):
            out = model.sam.encode(images).sum()
        out.backward()
        _sync(args)
        t2 = time.perf_counter()
        if rep:  # the first pass warms up
            fwd.append(t1 - t)
            fwdbwd.append(t2 - t1)
    return dict(encoder_fwd=min(fwd), lora_fwd_bwd=min(fwdbwd))


def child_iteration(args):
    """PointSAM (NPC + PBR) training steps, as the Runner runs them (data already loaded).

    ``--objects slope`` alternates the 1-object and the 50-object image in one process, so that
    both see the same machine state and the per-object slope is not skewed by drift between
    processes.
    """
    import torch
    from mmengine.logging import MessageHub
    from mmengine.optim import OptimWrapper

    from mmpointsam.engine.optimizers import BF16OptimWrapper

    if args.objects == 'slope':
        names, groups = [ONE_OBJECT, MANY_OBJECTS], [[0], [1]]
    elif args.objects == '1':
        names, groups = [ONE_OBJECT], [[0]]
    else:  # batches past the typical images repeat them
        names = TYPICAL[: args.batch]
        groups = [[i % len(TYPICAL) for i in range(args.batch)]]
    model, dataset = _build(args, args.config, names, max_instances=args.max_instances)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    wrapper = BF16OptimWrapper if args.train_bf16 else OptimWrapper
    optim = wrapper(torch.optim.Adam(params, lr=5e-4, weight_decay=1e-4))
    decode, calls = model.sam.decode, []

    def timed_decode(*decode_args, **decode_kwargs):  # where the per-object time goes
        _sync(args)
        t = time.perf_counter()
        out = decode(*decode_args, **decode_kwargs)
        _sync(args)
        calls.append((torch.is_grad_enabled(), len(out[0]), time.perf_counter() - t))
        return out

    model.sam.decode = timed_decode  # every teacher decodes with the student's module
    runs = [[] for _ in groups]
    # the run length a Runner would publish (EMATeacher(run_fraction) sets its momentum from it)
    MessageHub.get_current_instance().update_info('max_iters', (args.reps + 1) * len(groups))
    for rep in range(args.reps + 1):
        for indices, group_runs in zip(groups, runs):
            batch = _batch(dataset, indices)
            objects = sum(len(s.gt_instances) for s in batch['data_samples'])
            calls.clear()
            _sync(args)
            t = time.perf_counter()
            model.train_step(batch, optim)
            _sync(args)
            elapsed = time.perf_counter() - t
            if not rep:  # the first round warms up
                continue
            no_grad = [c for c in calls if not c[0]]
            # no-grad decodes: the teacher's, then NPC's re-decode of the overlapping instances
            group_runs.append(
                dict(
                    iteration=elapsed,
                    objects=objects,
                    images=len(indices),
                    teacher_decode=no_grad[0][2],
                    npc_decode=sum(c[2] for c in no_grad[1:]),
                    npc_prompts=sum(c[1] for c in no_grad[1:]),
                    student_decode_fwd=sum(c[2] for c in calls if c[0]),
                )
            )
    best = [min(r, key=lambda x: x['iteration']) for r in runs]
    if len(best) == 1:
        return best[0]
    return {
        f'{key}_{name}': value for name, r in zip(('one', 'many'), best) for key, value in r.items()
    }


def _encoder_time(model, data):
    import torch

    with torch.no_grad():
        t = time.perf_counter()
        model.sam.encode(data['inputs'])
        return time.perf_counter() - t


def child_eval(args):
    """Point-prompt prediction (one mask per instance at full size) vs the encoder alone."""
    import torch

    names = TYPICAL[: args.num_images]
    model, dataset = _build(args, 'sam_direct/sam-direct_sam-vit-b_nwpu.py', names, test=True)
    model.eval()
    total = enc = 0.0
    masks = []
    with torch.no_grad():
        model.test_step(_batch(dataset, [0]))  # warm-up
        for i in range(len(names)):
            batch = _batch(dataset, [i])
            t = time.perf_counter()
            out = model.test_step(batch)
            total += time.perf_counter() - t
            enc += _encoder_time(model, model.data_preprocessor(batch, False))
            masks.append(out[0].pred_instances.masks)
    if args.save_masks:
        torch.save(masks, args.save_masks)
    objects = sum(len(m) for m in masks)
    return dict(eval_per_image=total / len(names), encoder=enc / len(names), objects=objects)


def child_convert(args):
    """Points -> rotated boxes (the converter's per-image path) vs the encoder alone."""
    from mmpointsam.apis.point2rbox import Point2RBoxConverter

    names = TYPICAL[: args.num_images]
    model, dataset = _build(
        args, 'sam_direct/sam-direct_sam-vit-b_nwpu.py', names, test=True, npc=True
    )
    converter = Point2RBoxConverter(model)
    converter.predict(dataset[0])  # warm-up
    total = enc = 0.0
    for i in range(len(names)):
        t = time.perf_counter()
        out = converter.predict(dataset[i])
        total += time.perf_counter() - t
        enc += out['encoder_time']
    return dict(convert_per_image=total / len(names), encoder=enc / len(names))


CHILDREN = dict(
    floor=child_floor, iteration=child_iteration, eval=child_eval, convert=child_convert
)


# ---------------------------------------------------------------------------------- parent
def run_child(args, kind, **extra):
    cmd = [
        sys.executable,
        osp.abspath(__file__),
        '--child',
        kind,
        '--arch',
        args.arch,
        '--data-root',
        args.data_root,
        '--reps',
        str(args.reps),
        '--device',
        args.device,
        '--num-images',
        str(args.num_images),
        '--config',
        args.config,
    ]
    if args.attention and 'attention' not in extra:
        cmd += ['--attention', args.attention]
    for key, value in extra.items():
        if value is True:
            cmd.append(f'--{key.replace("_", "-")}')
        elif value not in (None, False):
            cmd += [f'--{key.replace("_", "-")}', str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
        raise RuntimeError(f'benchmark step {kind} {extra} failed')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f'  {kind} {extra}: '
        + ', '.join(
            f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}' for k, v in result.items()
        ),
        flush=True,
    )
    return result


def mask_agreement(a_file: str, b_file: str) -> float:
    import torch

    a, b = torch.load(a_file), torch.load(b_file)
    ious = []
    for x, y in zip(a, b):
        inter = (x & y).flatten(1).sum(1).float()
        union = (x | y).flatten(1).sum(1).float()
        ious.append(torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union)))
    return float(torch.cat(ious).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--arch', default='vit_b', help='SAM vit_b/l/h, vit_t, tiny or SAM 2.1 hiera_t/s/b+/l'
    )
    parser.add_argument(
        '--config',
        default='pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py',
        help='self-training config of the iteration (path under configs/)',
    )
    parser.add_argument('--data-root', default=osp.join(REPO, 'data', 'nwpu_vhr10'))
    parser.add_argument('--reps', type=int, default=2, help='timed repetitions (min is kept)')
    parser.add_argument('--num-images', type=int, default=3)
    parser.add_argument('--batches', type=int, nargs='+', default=[2, 4])
    parser.add_argument(
        '--only',
        nargs='+',
        choices=[
            'floor',
            'iteration',
            'objects',
            'batch',
            'eval',
            'convert',
            'bf16',
            'train-bf16',
            'attention',
        ],
        help='train-bf16: floor, 1-object and 1-/50-object iterations (and '
        'batch, if asked) in fp32 and bf16 training, side by side; attention: the fp32 floor '
        "with segment-anything's attention against the fused one's fp32 and bf16 "
        'iterations (the encoder-roofline goals)',
    )
    parser.add_argument(
        '--attention',
        choices=['fused', 'reference'],
        help="SAM's encoder attention (default: the config's, i.e. fused)",
    )
    parser.add_argument('--device', default='cpu', help='cpu or cuda (cuda: untested here)')
    parser.add_argument('--child', choices=list(CHILDREN))
    parser.add_argument('--objects')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--max-instances', type=int)
    parser.add_argument('--bf16', action='store_true', help='bf16 encoder for inference')
    parser.add_argument(
        '--train-bf16',
        action='store_true',
        help='bf16 training: BF16OptimWrapper, autocast floor passes',
    )
    parser.add_argument('--save-masks')
    args = parser.parse_args()
    if args.child:
        import torch

        result = CHILDREN[args.child](args)
        result['peak_rss_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        if args.device.startswith('cuda'):
            result['peak_gpu_gb'] = torch.cuda.max_memory_allocated() / 2**30
        result['threads'] = torch.get_num_threads()
        print(json.dumps(result))
        return

    steps = set(args.only or ['floor', 'iteration', 'objects', 'batch', 'eval', 'convert', 'bf16'])
    if steps == {'attention'}:
        return attention_goals(args)
    if 'train-bf16' in steps:  # bf16 beside fp32, in the same run
        steps |= {'floor', 'iteration', 'objects'}
    cuda = args.device.startswith('cuda')
    where = args.device if cuda else f'{os.cpu_count()} CPUs'
    print(
        f'speed benchmark: {args.arch}, 1024 input, random weights, real NWPU images, {where}',
        flush=True,
    )
    res = {}
    if steps & {'floor', 'iteration', 'objects'}:
        res['floor'] = run_child(args, 'floor')
    if steps & {'iteration', 'objects'}:
        res['it1'] = run_child(args, 'iteration', objects='1')
    if 'objects' in steps:
        res['slope'] = run_child(args, 'iteration', objects='slope', max_instances=50)
    if 'train-bf16' in steps:
        res['floor_bf16'] = run_child(args, 'floor', train_bf16=True)
        res['it1_bf16'] = run_child(args, 'iteration', objects='1', train_bf16=True)
        res['slope_bf16'] = run_child(
            args, 'iteration', objects='slope', max_instances=50, train_bf16=True
        )
    if 'batch' in steps:
        for b in args.batches:
            res[f'b{b}'] = run_child(args, 'iteration', objects='typical', batch=b)
        res['b1'] = run_child(args, 'iteration', objects='typical', batch=1)
        if 'train-bf16' in steps:
            for b in [1] + list(args.batches):
                res[f'b{b}_bf16'] = run_child(
                    args, 'iteration', objects='typical', batch=b, train_bf16=True
                )
    tmp = tempfile.mkdtemp()
    if steps & {'eval', 'bf16'}:
        res['eval'] = run_child(args, 'eval', save_masks=osp.join(tmp, 'fp32.pth'))
    if 'convert' in steps:
        res['convert'] = run_child(args, 'convert')
    if 'bf16' in steps:
        res['eval_bf16'] = run_child(args, 'eval', bf16=True, save_masks=osp.join(tmp, 'bf16.pth'))
        res['agreement'] = mask_agreement(osp.join(tmp, 'fp32.pth'), osp.join(tmp, 'bf16.pth'))

    print(f'\n| {args.arch}, CPU | value | target |\n| --- | --- | --- |')
    if 'floor' in res:
        f = res['floor']
        floor = f['encoder_fwd'] + f['lora_fwd_bwd']
        print(f'| encoder forward (no grad) | {f["encoder_fwd"]:.2f} s | |')
        print(f'| LoRA encoder forward + backward | {f["lora_fwd_bwd"]:.2f} s | |')
        print(f'| floor (sum) | {floor:.2f} s | |')
    if 'it1' in res:
        it1 = res['it1']
        print(
            f'| PointSAM iteration, 1 object, batch 1 | {it1["iteration"]:.2f} s '
            f'({it1["iteration"] / floor:.2f} x floor) | <= 1.1 x floor |'
        )
        print(f'| peak RSS, 1 object | {it1["peak_rss_gb"]:.2f} GB | <= 7 GB |')
    if 'slope' in res:
        sl = res['slope']
        n1, n50 = sl['objects_one'], sl['objects_many']
        t1, t50 = sl['iteration_one'], sl['iteration_many']
        print(
            f'| PointSAM iteration, {n1} and {n50} objects alternating in one process | '
            f'{t1:.2f} and {t50:.2f} s | |'
        )
        print(f'| per-object slope | {(t50 - t1) / (n50 - n1):.3f} s | <= 0.1 s |')
        print(
            f'| of which decoder, per object: teacher / NPC ({sl["npc_prompts_many"]} '
            f're-decoded) / student forward | {sl["teacher_decode_many"] / n50:.3f} / '
            f'{sl["npc_decode_many"] / n50:.3f} / {sl["student_decode_fwd_many"] / n50:.3f} s '
            f'| |'
        )
        print(f'| peak RSS of that process | {sl["peak_rss_gb"]:.2f} GB | <= 7 GB |')
    for b in [1] + list(args.batches):
        if f'b{b}' in res:
            r = res[f'b{b}']
            print(
                f'| iteration per image, batch {b} ({r["objects"]} objects) | '
                f'{r["iteration"] / b:.2f} s, {b / r["iteration"]:.2f} images/s '
                f'(peak RSS {r["peak_rss_gb"]:.1f} GB{_gpu_mem(r)}) | |'
            )
    if 'eval' in res:
        e = res['eval']
        print(
            f'| evaluation per image ({e["objects"]} objects in {args.num_images} images) | '
            f'{e["eval_per_image"]:.2f} s ({e["eval_per_image"] / e["encoder"]:.2f} x encoder) '
            f'| <= 1.05 x |'
        )
    if 'convert' in res:
        c = res['convert']
        print(
            f'| conversion per image | {c["convert_per_image"]:.2f} s '
            f'({c["convert_per_image"] / c["encoder"]:.2f} x encoder) | <= 1.15 x |'
        )
    if 'eval_bf16' in res:
        e, b = res['eval'], res['eval_bf16']
        print(
            f'| bf16 encoder | {b["encoder"]:.2f} s ({e["encoder"] / b["encoder"]:.2f} x faster '
            f'than fp32 {e["encoder"]:.2f} s) | |'
        )
        print(f'| bf16 vs fp32 masks, mean IoU | {res["agreement"]:.4f} | |')
    if 'floor_bf16' in res:
        print_train_bf16(args, res)


def attention_goals(args):
    """The issue's goals for the fused attention, as ratios measured in this one run: fp32 and
    bf16 PointSAM iterations (fused attention) over the fp32 floor of segment-anything's; then
    the fp32 loop with segment-anything's attention, which the issue timed against the public
    PointSAM code, over today's bf16 loop at 1 and 30 objects."""
    print(f'attention goals: {args.arch}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}')
    ref = run_child(args, 'floor', attention='reference')
    fused = run_child(args, 'floor', attention='fused')
    fused16 = run_child(args, 'floor', attention='fused', train_bf16=True)
    it32 = run_child(args, 'iteration', objects='1', attention='fused')
    sl16 = run_child(
        args, 'iteration', objects='slope', max_instances=50, attention='fused', train_bf16=True
    )
    # the loop the issue paired with the public PointSAM code (fp32, segment-anything's
    # attention, 1 and 30 objects) against today's bf16 one, on the same images
    then = run_child(args, 'iteration', objects='slope', max_instances=30, attention='reference')
    now = run_child(
        args, 'iteration', objects='slope', max_instances=30, attention='fused', train_bf16=True
    )
    floor = ref['encoder_fwd'] + ref['lora_fwd_bwd']
    print(f'load at the end: {os.getloadavg()[0]:.2f}')
    print(f'\n| {args.arch}, {args.device} | seconds | x fp32 floor (reference attention) | goal |')
    print('| --- | --- | --- | --- |')
    rows = [
        ('fp32 floor, reference attention', floor, ''),
        ('fp32 floor, fused', fused['encoder_fwd'] + fused['lora_fwd_bwd'], ''),
        ('bf16 floor, fused', fused16['encoder_fwd'] + fused16['lora_fwd_bwd'], ''),
        ('encoder forward fp32: reference / fused', None, ''),
        ('PointSAM iteration fp32, 1 object, fused', it32['iteration'], '<= 0.7'),
        (
            f'PointSAM iteration bf16, {sl16["objects_one"]} object, fused',
            sl16['iteration_one'],
            '<= 0.25',
        ),
        (
            f'PointSAM iteration bf16, {sl16["objects_many"]} objects, fused',
            sl16['iteration_many'],
            '<= 0.35',
        ),
    ]
    for name, value, goal in rows:
        if value is None:
            print(
                f'| {name} | {ref["encoder_fwd"]:.2f} / {fused["encoder_fwd"]:.2f} | '
                f'{fused["encoder_fwd"] / ref["encoder_fwd"]:.2f} (fused / reference) | |'
            )
            continue
        print(f'| {name} | {value:.2f} | {value / floor:.2f} | {goal} |')
    print(
        f'| peak RSS: reference floor / fused floor / bf16 1-50 objects | '
        f'{ref["peak_rss_gb"]:.2f} / {fused["peak_rss_gb"]:.2f} / {sl16["peak_rss_gb"]:.2f} GB '
        f'| | |'
    )
    print('\n| PointSAM iteration | fp32, reference attention | bf16, fused | speed-up |')
    print('| --- | --- | --- | --- |')
    for key in ('one', 'many'):
        old, new = then[f'iteration_{key}'], now[f'iteration_{key}']
        print(
            f'| {then[f"objects_{key}"]} objects | {old:.2f} s | {new:.2f} s | {old / new:.2f}x |'
        )


def _gpu_mem(r) -> str:
    return f', peak GPU {r["peak_gpu_gb"]:.2f} GB' if 'peak_gpu_gb' in r else ''


def print_train_bf16(args, res):
    """fp32 and bf16 training side by side; times also as multiples of the fp32 floor."""
    f32, f16 = res['floor'], res['floor_bf16']
    floor32 = f32['encoder_fwd'] + f32['lora_fwd_bwd']
    floor16 = f16['encoder_fwd'] + f16['lora_fwd_bwd']
    rel = lambda t: f'{t:.2f} s ({t / floor32:.2f} x fp32 floor)'  # noqa: E731
    print(
        f'\n| {args.arch}, {args.device}, training | fp32 | bf16 (BF16OptimWrapper) | '
        f'bf16 / fp32 |\n| --- | --- | --- | --- |'
    )
    for key, name in (
        ('encoder_fwd', 'encoder forward (no grad)'),
        ('lora_fwd_bwd', 'LoRA encoder forward + backward'),
    ):
        print(f'| {name} | {f32[key]:.2f} s | {f16[key]:.2f} s | {f16[key] / f32[key]:.2f} |')
    print(f'| floor (sum) | {floor32:.2f} s | {rel(floor16)} | {floor16 / floor32:.2f} |')
    a, b = res['it1'], res['it1_bf16']
    print(
        f'| PointSAM iteration, 1 object, batch 1 (target: bf16 <= 0.5 x fp32 floor) | '
        f'{rel(a["iteration"])} | {rel(b["iteration"])} | '
        f'{b["iteration"] / a["iteration"]:.2f} |'
    )
    print(
        f'| peak RSS, 1 object | {a["peak_rss_gb"]:.2f} GB{_gpu_mem(a)} | '
        f'{b["peak_rss_gb"]:.2f} GB{_gpu_mem(b)} | |'
    )
    a, b = res['slope'], res['slope_bf16']
    n1, n50 = a['objects_one'], a['objects_many']
    for key, name in (
        ('iteration_one', f'PointSAM iteration, {n1} object (alternating)'),
        ('iteration_many', f'PointSAM iteration, {n50} objects (alternating)'),
    ):
        print(f'| {name} | {rel(a[key])} | {rel(b[key])} | {b[key] / a[key]:.2f} |')
    s32 = (a['iteration_many'] - a['iteration_one']) / (n50 - n1)
    s16 = (b['iteration_many'] - b['iteration_one']) / (n50 - n1)
    print(f'| per-object slope | {s32:.3f} s | {s16:.3f} s | {s16 / s32:.2f} |')
    print(
        f'| peak RSS of the 1-/50-object process | {a["peak_rss_gb"]:.2f} GB{_gpu_mem(a)} | '
        f'{b["peak_rss_gb"]:.2f} GB{_gpu_mem(b)} | |'
    )
    for n in [1] + list(args.batches):
        if f'b{n}_bf16' in res:
            a, b = res[f'b{n}'], res[f'b{n}_bf16']
            print(
                f'| batch {n}: images/s (peak memory) | {n / a["iteration"]:.2f} '
                f'({a["peak_rss_gb"]:.1f} GB RSS{_gpu_mem(a)}) | {n / b["iteration"]:.2f} '
                f'({b["peak_rss_gb"]:.1f} GB RSS{_gpu_mem(b)}) | '
                f'{a["iteration"] / b["iteration"]:.2f} x images/s |'
            )


if __name__ == '__main__':
    main()
