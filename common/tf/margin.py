"""Margin softmax heads: CosFace (= AM-Softmax: MobileFaceNet's Ascend port, PFE's base) and ArcFace.

Both normalise the features and the columns of W [D, C], so logits are s·cos θ; the target
class gets s·(cos θ − m) (CosFace) or s·cos(θ + m) (ArcFace, with insightface's fallback
s·(cos θ − m·sin m) where θ + m would pass π). Everything runs in float32, also under mixed
precision: logits reach s = 64 over tens of thousands of classes.
"""

from __future__ import annotations

import math

import tensorflow as tf

DEFAULTS = {"cosface": (64.0, 0.35), "arcface": (64.0, 0.5)}


@tf.keras.utils.register_keras_serializable("facezoo")
class MarginHead(tf.keras.layers.Layer):
    """Class weights W [D, num_classes] and the margin logits of (prelogits, labels)."""

    def __init__(self, num_classes: int, loss: str = "cosface", scale: float | None = None,
                 margin: float | None = None, **kwargs):
        kwargs.pop("dtype", None)  # always float32, whatever the global policy
        super().__init__(dtype="float32", **kwargs)
        if loss not in DEFAULTS:
            raise ValueError(f"--loss: expected one of {sorted(DEFAULTS)}, found '{loss}'")
        s, m = DEFAULTS[loss]
        self.num_classes, self.loss = num_classes, loss
        self.scale = float(s if scale is None else scale)
        self.margin = float(m if margin is None else margin)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="embedding_weights", shape=(int(input_shape[-1]), self.num_classes),
                                      initializer="glorot_uniform")

    def cosine(self, prelogits):
        """cos θ [B, C] between the features and the columns of W."""
        x = tf.math.l2_normalize(tf.cast(prelogits, tf.float32), axis=1, epsilon=1e-10)
        # x·(w/|w|) computed as (x·w)/|w|: the same value as l2_normalize(W), but the divide runs
        # over B×C logits, not over the D×C weights (twice, counting the gradient) every step.
        inv_norms = tf.math.rsqrt(tf.maximum(tf.reduce_sum(tf.square(self.kernel), axis=0), 1e-10))
        return tf.matmul(x, self.kernel) * inv_norms

    def call(self, prelogits, labels):
        return self.margin_logits(self.cosine(prelogits), labels)

    def margin_logits(self, cos, labels):
        """s·cos θ with the margin on each row's target class."""
        target = tf.one_hot(labels, self.num_classes) > 0.5
        m = self.margin
        if self.loss == "cosface":
            with_margin = cos - m
        else:
            # cos(θ + m) = cos θ cos m − sin θ sin m; sin θ floored so its gradient stays finite at
            # cos θ = ±1. Past θ = π − m, insightface's fallback keeps the logit monotone.
            sin = tf.sqrt(tf.maximum(1.0 - tf.square(cos), 1e-12))
            phi = cos * math.cos(m) - sin * math.sin(m)
            with_margin = tf.where(cos > math.cos(math.pi - m), phi, cos - math.sin(m) * m)
        return self.scale * tf.where(target, with_margin, cos)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "loss": self.loss,
                "scale": self.scale, "margin": self.margin}


def margin_loss(logits, labels) -> tf.Tensor:
    """Mean softmax cross-entropy of the margin logits."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
