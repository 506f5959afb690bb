"""Drop-in Keras layers with faster TensorFlow training kernels: same weights, same results.

Keras 3 builds training-mode batch norm from moments plus half a dozen elementwise ops, and
PReLU from two ReLUs, a negation, a product and a sum; on CPU these memory-bound passes took
most of a MobileFaceNet step (docs/benchmarks.md). The classes below keep Keras' variables,
names and inference path, so checkpoints and frozen graphs are unchanged; batch norm's moving
variance follows TF1's slim (the originals' trainers), not Keras.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.keras import layers


class BatchNormalization(layers.BatchNormalization):
    """Keras BN as TF1's slim batch norm trains it: the moving variance averages the unbiased
    batch variance (n/(n − 1), what TF's fused kernel reports; Keras averages the biased one),
    while the batch is normalised with the biased one as in both. Feature maps [B, H, W, C] and
    dense features [B, C] (as [B, 1, 1, C], slim's own reshape) train through TF's fused kernel:
    one op forward, one backward. Synchronised BN (several replicas) takes Keras' moments over
    the global batch. ``unbiased_moving_variance=False`` gives Keras' statistics."""

    def __init__(self, *args, unbiased_moving_variance: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.unbiased_moving_variance = unbiased_moving_variance

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or self.renorm or mask is not None \
                or self.axis not in (-1, len(inputs.shape) - 1):
            return super().call(inputs, training=training, mask=mask)
        if self.synchronized or len(inputs.shape) not in (2, 4):
            return self._train_with_moments(inputs)
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else tf.ones((channels,), tf.float32)
        offset = self.beta if self.center else tf.zeros((channels,), tf.float32)
        maps = inputs if len(inputs.shape) == 4 else tf.reshape(inputs, [-1, 1, 1, channels])
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            tf.cast(maps, tf.float32), tf.cast(scale, tf.float32), tf.cast(offset, tf.float32),
            epsilon=self.epsilon, is_training=True)[:3]
        if not self.unbiased_moving_variance:  # the kernel reports the unbiased batch variance
            count = tf.cast(tf.reduce_prod(tf.shape(maps)[:3]), tf.float32)
            variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
        self._update_moving(mean, variance)
        return tf.cast(tf.reshape(outputs, tf.shape(inputs)), self.compute_dtype)

    def _train_with_moments(self, inputs):
        """Keras' moments (over all replicas when synchronised), the moving variance corrected."""
        x = tf.cast(inputs, tf.float32)
        mean, variance = self._moments(x, None)
        count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
        context = tf.distribute.get_replica_context()
        if self.synchronized and context is not None and context.num_replicas_in_sync > 1:
            count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
        correction = count / tf.maximum(count - 1.0, 1.0) if self.unbiased_moving_variance else 1.0
        self._update_moving(mean, variance * correction)
        outputs = tf.nn.batch_normalization(x, mean, variance, self.beta if self.center else None,
                                            self.gamma if self.scale else None, self.epsilon)
        return tf.cast(outputs, self.compute_dtype)

    def _update_moving(self, mean, variance):
        """slim's assign_moving_average without zero-debiasing (= Keras' momentum update)."""
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))

    def get_config(self):
        return {**super().get_config(), "unbiased_moving_variance": self.unbiased_moving_variance}


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
