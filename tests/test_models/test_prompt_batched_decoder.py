import pytest
import torch

from mmpointsam.models.sam import build_sam


@pytest.mark.parametrize('arch,img_size,num_points', [('tiny', 128, 1), ('tiny', 256, 3),
                                                      ('vit_t', 256, 2)])
def test_same_masks_and_gradients_as_segment_anything(arch, img_size, num_points):
    torch.manual_seed(0)
    fast = build_sam(dict(arch=arch, img_size=img_size))
    slow = build_sam(dict(arch=arch, img_size=img_size, prompt_batched_decoder=False))
    slow.load_state_dict(fast.state_dict())
    fast.eval(), slow.eval()
    grid = img_size // 16
    dim = fast.prompt_encoder.embed_dim
    emb = torch.randn(2, dim, grid, grid)
    n = 7
    points = torch.rand(n, 2 * num_points, 2) * img_size
    labels = torch.tensor([[1] * num_points + [0] * num_points] * n)
    labels[0, -1] = -1  # padding too
    batch_idx = torch.tensor([0, 1, 0, 0, 1, 1, 0])
    outs = []
    for model in (fast, slow):
        e = emb.clone().requires_grad_()
        logits, iou = model.decode(e, batch_idx, points, labels, multimask_output=True)
        (logits.sigmoid().square().mean() + iou.sum()).backward()
        outs.append((logits, iou, e.grad))
    (lf, if_, gf), (ls, is_, gs) = outs
    assert torch.allclose(lf, ls, atol=1e-4, rtol=1e-4)
    assert torch.allclose(if_, is_, atol=1e-5, rtol=1e-4)
    assert torch.allclose(gf, gs, atol=1e-6, rtol=1e-3)


def test_box_prompts_use_the_same_path_and_mask_prompts_fall_back():
    torch.manual_seed(0)
    fast = build_sam(dict(arch='tiny', img_size=128)).eval()
    slow = build_sam(dict(arch='tiny', img_size=128, prompt_batched_decoder=False)).eval()
    slow.load_state_dict(fast.state_dict())
    emb = torch.randn(1, 32, 8, 8)
    boxes = torch.tensor([[10., 10., 60., 50.], [0., 20., 128., 90.]])
    idx = torch.zeros(2, dtype=torch.long)
    with torch.no_grad():
        a = fast.decode(emb, idx, boxes=boxes)
        b = slow.decode(emb, idx, boxes=boxes)
        assert torch.allclose(a[0], b[0], atol=1e-4)
        masks = torch.randn(2, 1, 32, 32)
        c = fast.decode(emb, idx, boxes=boxes, mask_inputs=masks)
        d = slow.decode(emb, idx, boxes=boxes, mask_inputs=masks)
        assert torch.equal(c[0], d[0])  # mask prompts: SAM's own decoder in both
