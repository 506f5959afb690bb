"""Template fusion of several images of one person (PFE's aggregate_PFE).

Per dimension, μ is averaged with weights 1/σ² (normalised over the images) and re-normalised
to unit length; the fused σ² is the dimension-wise minimum, not the harmonic combination the
posterior would give, because frames of one template are redundant (the paper's choice).
"""

from __future__ import annotations

import numpy as np


def aggregate_pfe(mu: np.ndarray, sigma_sq: np.ndarray, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Fuse [n, D] embeddings and variances of one template into one (μ, σ²) pair."""
    mu, sigma_sq = np.asarray(mu, np.float64), np.asarray(sigma_sq, np.float64)
    if mu.ndim != 2 or mu.shape != sigma_sq.shape or len(mu) == 0:
        raise ValueError(f"aggregate_pfe: expected equal [n, D] arrays with n >= 1, found {mu.shape} and {sigma_sq.shape}")
    attention = 1.0 / sigma_sq
    attention /= attention.sum(axis=0, keepdims=True)
    fused_mu = (mu * attention).sum(axis=0)
    if normalize:
        fused_mu /= 1e-8 + np.linalg.norm(fused_mu)
    return fused_mu, sigma_sq.min(axis=0)
