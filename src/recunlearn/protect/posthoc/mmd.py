"""Multi-kernel Gaussian MMD^2 between two samples (the D2D / D2DFR distance)."""

from __future__ import annotations

import torch


def mmd2(
    x: torch.Tensor, y: torch.Tensor, n_kernels: int = 5, multiplier: float = 2.0
) -> torch.Tensor:
    """Biased (V-statistic) MMD^2 of ``x`` and ``y`` with a sum of Gaussian kernels.

    Bandwidths are ``base * multiplier**i`` (i = 0..n_kernels-1), ``base`` being the mean
    off-diagonal squared distance of the pooled sample divided by ``multiplier**(n_kernels//2)``
    and held constant (no gradient), as the D2D code does.
    """
    pooled = torch.cat([x, y])
    d2 = torch.cdist(pooled, pooled).pow(2)
    n = len(pooled)
    with torch.no_grad():
        base = d2.sum() / max(1, n * n - n) / multiplier ** (n_kernels // 2)
        base = torch.clamp(base, min=1e-12)
    kernel = sum(torch.exp(-d2 / (base * multiplier**i)) for i in range(n_kernels))
    m = len(x)
    xx, yy, xy = kernel[:m, :m].mean(), kernel[m:, m:].mean(), kernel[:m, m:].mean()
    return xx + yy - 2 * xy
