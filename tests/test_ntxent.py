import math

import torch
import torch.nn.functional as F

from discotok.methods.ntxent_loss import NTXentLoss


def reference_ntxent(z1, z2, t):
    """The SimCLR paper's loss written as a plain double loop."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        denom = sum(math.exp(float(z[i] @ z[k]) / t) for k in range(2 * n) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[j]) / t) / denom)
    return total / (2 * n)


def test_matches_reference():
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    assert abs(NTXentLoss(0.3)(z1, z2).item() - reference_ntxent(z1, z2, 0.3)) < 1e-4


def test_aligned_pairs_have_lower_loss():
    z = torch.randn(16, 8)
    loss = NTXentLoss(0.2)
    assert loss(z, z + 0.01 * torch.randn_like(z)) < loss(z, torch.randn(16, 8))
