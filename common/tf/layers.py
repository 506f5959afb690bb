"""Drop-in Keras layers with faster TensorFlow training kernels: same weights, same results.

Keras 3 builds training-mode batch norm from moments plus half a dozen elementwise ops, and
PReLU from two ReLUs, a negation, a product and a sum; on CPU these memory-bound passes took
most of a MobileFaceNet step (docs/benchmarks.md). The classes below keep Keras' variables,
names and inference path, so checkpoints and frozen graphs are unchanged.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.keras import layers


class BatchNormalization(layers.BatchNormalization):
    """Keras BN whose training pass on NHWC feature maps is TF's fused kernel (one op forward,
    one backward). Synchronised BN (several replicas), masks and renorm keep Keras' own path."""

    def call(self, inputs, training=None, mask=None):
        fusable = (training and self.trainable and not self.synchronized and not self.renorm
                   and mask is None and len(inputs.shape) == 4 and self.axis in (-1, 3))
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else tf.ones((channels,), tf.float32)
        offset = self.beta if self.center else tf.zeros((channels,), tf.float32)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, tf.cast(scale, tf.float32), tf.cast(offset, tf.float32), epsilon=self.epsilon,
            is_training=True)[:3]
        # The fused kernel reports the unbiased batch variance; Keras averages the biased one.
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:3]), tf.float32)
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.cast(outputs, self.compute_dtype)


@tf.custom_gradient
def _prelu(x, alpha):
    positive = x > 0

    def grad(dy):
        dx = tf.where(positive, dy, alpha * dy)
        dalpha = tf.reduce_sum(tf.where(positive, tf.zeros_like(x), x * dy), axis=0)
        shared = [i for i, n in enumerate(alpha.shape) if n == 1]
        return dx, tf.reduce_sum(dalpha, shared, keepdims=True) if shared else dalpha

    return tf.where(positive, x, alpha * x), grad


class PReLU(layers.PReLU):
    """Keras PReLU, max(x, 0) + alpha·min(x, 0); in training one select forward and a
    hand-written gradient (one select for x, one masked reduction for alpha). Inference keeps
    Keras' ops, so frozen graphs and their ONNX exports are the ones Keras gives."""

    def call(self, inputs, training=None):
        if not training:
            return super().call(inputs)
        return _prelu(inputs, tf.cast(self.alpha, inputs.dtype))
