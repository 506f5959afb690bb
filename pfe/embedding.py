"""A PFE model's two outputs for a batch of images: the embedding mu and its uncertainty sigma^2."""

from __future__ import annotations

import numpy as np


def embed(base, head, images: np.ndarray, batch_size: int = 128):
    """mu and sigma_sq of standardised images, in inference mode (no flip)."""
    import tensorflow as tf

    mu, sigma_sq = [], []
    for start in range(0, len(images), batch_size):
        out = base(images[start:start + batch_size], training=False)
        mu.append(out["mu"].numpy())
        sigma_sq.append(tf.exp(head(out["conv_final"], training=False)).numpy())
    return np.concatenate(mu), np.concatenate(sigma_sq)
