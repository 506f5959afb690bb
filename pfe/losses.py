"""PFE's mutual likelihood score loss, exactly as the code optimises it (utils/tflib.py).

For every ordered genuine pair (i ≠ j, same label) in the batch:
    Σ_l (μ_i − μ_j)² / (1e-10 + σ²_i + σ²_j) + log(σ²_i + σ²_j)
averaged over pairs: −2·MLS without the constant (the paper's ½ and −D/2·log 2π are dropped).
"""

from __future__ import annotations

import tensorflow as tf


def mls_loss(mu, log_sigma_sq, labels) -> tf.Tensor:
    sigma_sq = tf.exp(log_sigma_sq)
    fused = sigma_sq[:, None, :] + sigma_sq[None, :, :]
    pair = tf.reduce_sum(tf.square(mu[:, None, :] - mu[None, :, :]) / (1e-10 + fused) + tf.math.log(fused), -1)
    same = tf.equal(labels[:, None], labels[None, :])
    genuine = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(mu)[0], dtype=tf.bool)))
    return tf.reduce_mean(tf.boolean_mask(pair, genuine))
