"""The PFE uncertainty head on the base's flattened conv features (not on mu).

FC 512 (no bias) -> BN -> ReLU -> FC 512 (no bias) -> BN without affine -> one shared scale
(init 1e-4) and shift (init −7) -> log σ² = log(1e-6 + exp(x)); 512 values per image, so
σ² starts at exp(−7) ≈ 9e-4 in every dimension. Weight decay 5e-4 (slim's wd·Σw²/2) on the
two kernels only.
"""

from __future__ import annotations

import tensorflow as tf

from common.tf import layers as fused

layers = tf.keras.layers


@tf.keras.utils.register_keras_serializable("pfe")
class ScaleAndShift(layers.Layer):
    """x·scale + shift with two scalars shared by every dimension (the original's names are
    swapped: its `alpha` is the scale, its `gamma` the shift)."""

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer=tf.keras.initializers.Constant(1e-4))
        self.shift = self.add_weight(name="shift", shape=(), initializer=tf.keras.initializers.Constant(-7.0))

    def call(self, x):
        return self.scale * x + self.shift


def build_uncertainty(input_dim: int, embedding_size: int = 512, weight_decay: float = 5e-4,
                      bn_decay: float = 0.995) -> tf.keras.Model:
    """conv_final [B, input_dim] -> log_sigma_sq [B, embedding_size]."""
    reg = tf.keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    features = tf.keras.Input((input_dim,), name="conv_final")
    h = layers.Dense(embedding_size, use_bias=False, kernel_initializer="glorot_uniform",
                     kernel_regularizer=reg, name="fc1")(features)
    h = fused.BatchNormalization(momentum=bn_decay, epsilon=1e-3, name="fc1_bn")(h)
    h = layers.ReLU(name="fc1_relu")(h)
    h = layers.Dense(embedding_size, use_bias=False, kernel_initializer="glorot_uniform",
                     kernel_regularizer=reg, name="fc_log_sigma_sq")(h)
    h = fused.BatchNormalization(momentum=bn_decay, epsilon=1e-3, center=False, scale=False,
                                  name="fc_log_sigma_sq_bn")(h)
    h = ScaleAndShift(name="scale_and_shift")(h)
    log_sigma_sq = layers.Lambda(lambda x: tf.math.log(1e-6 + tf.exp(x)), name="log_sigma_sq")(h)
    return tf.keras.Model(features, log_sigma_sq, name="uncertainty_module")
