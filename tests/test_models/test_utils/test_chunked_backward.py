import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmpointsam.models.utils import chunked_losses
from mmpointsam.registry import MODELS

IMG = 128


def _samples(counts):
    """Samples with random point prompts and square masks on a 128 px image."""
    samples = []
    for n in counts:
        s = DetDataSample(
            metainfo=dict(img_shape=(IMG, IMG), ori_shape=(IMG, IMG), scale_factor=(1.0, 1.0))
        )
        inst = InstanceData()
        inst.points = torch.rand(n, 1, 2) * IMG
        inst.point_labels = torch.ones(n, 1, dtype=torch.long)
        masks = torch.zeros(n, IMG, IMG, dtype=torch.bool)
        for i in range(n):
            y, x = torch.randint(0, IMG - 40, (2,))
            masks[i, y : y + 40, x : x + 30] = True
        inst.masks = masks
        inst.labels = torch.zeros(n, dtype=torch.long)
        s.gt_instances = inst
        samples.append(s)
    return samples


def _model(chunk, trainable=(), self_training=None):
    init_default_scope('mmpointsam')
    torch.manual_seed(0)
    sam = dict(
        type='SAM', arch='tiny', img_size=IMG, lora=dict(r=2, first_block=0), trainable=trainable
    )
    return MODELS.build(
        dict(
            type='PointSAM',
            sam=sam,
            data_preprocessor=dict(type='SAMDataPreprocessor', img_size=IMG),
            self_training=self_training,
            train_cfg=dict(loss_chunk_size=chunk),
        )
    )


@pytest.mark.parametrize(
    'trainable,self_training',
    [
        ((), None),
        (('prompt_encoder', 'mask_decoder'), None),
        (
            (),
            dict(
                type='PointPromptSelfTraining',
                npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
            ),
        ),
    ],
)
def test_chunked_backward_gives_the_same_losses_and_gradients(trainable, self_training):
    samples = _samples([5, 2])  # 7 prompts over 2 images: chunks of 3 cross the image border
    torch.manual_seed(1)
    images = torch.randn(2, 3, IMG, IMG)
    inputs = dict(weak=images, strong=images + 0.1 * torch.randn_like(images))
    results = []
    for chunk in (None, 3):
        model = _model(chunk, trainable, self_training)
        model.train()
        losses = model.loss(inputs, samples)
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        total.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        results.append((losses, grads))
    (plain, g_plain), (chunked, g_chunked) = results
    assert set(plain) == set(chunked)
    for key in plain:
        assert torch.allclose(plain[key], chunked[key], rtol=1e-5, atol=1e-6), key
    assert set(g_plain) == set(g_chunked) and any('lora' in n for n in g_plain)
    if trainable:
        assert any(n.startswith('sam.mask_decoder') for n in g_plain)
    for name, g in g_plain.items():
        # some gradients are 0 up to rounding (attention key biases: softmax is shift invariant)
        scale = g.abs().max().clamp(min=1e-5)
        assert (g - g_chunked[name]).abs().max() / scale < 1e-4, name


def test_chunked_losses_sum_the_chunks_and_scale_by_the_upstream_gradient():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = torch.tensor(2.0, requires_grad=True)

    def chunk_losses(emb, c):
        part = emb[c : c + 1]
        return dict(loss_a=(w * part).sum(), loss_b=part.square().sum())

    losses = chunked_losses(chunk_losses, 3, x, [w])
    assert losses['loss_a'].item() == pytest.approx(12.0)  # 2 * (1 + 2 + 3)
    assert losses['loss_b'].item() == pytest.approx(14.0)
    (5 * (losses['loss_a'] + losses['loss_b'])).backward()
    # d/dx = 5 * (w + 2x), d/dw = 5 * sum(x)
    assert torch.allclose(x.grad, 5 * (2 + 2 * torch.tensor([1.0, 2.0, 3.0])))
    assert w.grad.item() == pytest.approx(30.0)


def test_unequal_weights_are_refused():
    x = torch.ones(2, requires_grad=True)
    losses = chunked_losses(lambda e, c: dict(loss_a=e[c], loss_b=2 * e[c]), 2, x)
    with pytest.raises(RuntimeError, match='equal weights'):
        (losses['loss_a'] + 3 * losses['loss_b']).backward()
