import torch

from mmpointsam.models.losses import IoUPredictionLoss, MaskDiceLoss, MaskFocalLoss


def test_focal_matches_formula():
    logits = torch.tensor([[[2.0, -1.0]]])
    targets = torch.tensor([[[1.0, 0.0]]])
    loss = MaskFocalLoss(alpha=0.8, gamma=2.0, loss_weight=20.0)(logits, targets)
    p0, p1 = torch.sigmoid(torch.tensor(2.0)), torch.sigmoid(torch.tensor(-1.0))
    t0 = 0.8 * (1 - p0) ** 2 * -torch.log(p0)
    t1 = 0.2 * p1**2 * -torch.log(1 - p1)
    assert torch.allclose(loss, 20 * (t0 + t1) / 2, atol=1e-6)


def test_dice_values():
    dice = MaskDiceLoss(smooth=0.0)
    big = torch.full((1, 4, 4), 50.0)
    assert torch.allclose(dice(big, torch.ones(1, 4, 4)), torch.tensor(0.0), atol=1e-6)
    # prediction covers 4 px, target other 4 px: no overlap -> loss 1
    logits = torch.full((1, 4, 4), -50.0)
    logits[0, :2, :2] = 50.0
    target = torch.zeros(1, 4, 4)
    target[0, 2:, 2:] = 1
    assert torch.allclose(dice(logits, target), torch.tensor(1.0), atol=1e-6)
    # instance count never enters the smoothing: per-mask mean
    two = dice(torch.cat([big, logits]), torch.cat([torch.ones(1, 4, 4), target]))
    assert torch.allclose(two, torch.tensor(0.5), atol=1e-6)


def test_iou_prediction_loss_targets_true_iou():
    logits = torch.full((1, 2, 4), -1.0)
    logits[0, :, :2] = 1.0  # predicts the left half (4 px)
    target = torch.zeros(1, 2, 4)
    target[0, :, 1:3] = 1  # 4 px, overlap 2, union 6
    iou_pred = torch.tensor([1 / 3], requires_grad=True)
    loss = IoUPredictionLoss()(iou_pred, logits, target)
    assert torch.allclose(loss, torch.tensor(0.0), atol=1e-7)
    loss2 = IoUPredictionLoss()(torch.tensor([1.0]), logits, target)
    assert torch.allclose(loss2, torch.tensor((2 / 3) ** 2), atol=1e-6)
