"""The PFE base: a residual sphere net (SphereFace-style, PReLU, no BN in the trunk).

Four stages of [3x3 stride-2 conv with bias + PReLU, then n residual blocks of two 3x3 convs
with PReLU] at 64-128-256-512 channels; 112x96 input -> 7x6x512 -> flatten (21,504) -> FC 512
without bias -> BN (no scale) -> L2-normalised `mu`. PReLU slopes start at 0 (plain ReLU).
The flattened conv map (`conv_final`) feeds the uncertainty head.
"""

from __future__ import annotations

import tensorflow as tf

from common.tf import layers as fused

layers = tf.keras.layers
DEPTHS = {4: [0, 0, 0, 0], 10: [0, 1, 2, 0], 20: [1, 2, 4, 1], 36: [2, 4, 8, 2], 64: [3, 8, 16, 3]}
WIDTHS = [64, 128, 256, 512]


def _prelu(name):
    return fused.PReLU(alpha_initializer="zeros", shared_axes=[1, 2], name=f"{name}_prelu")


def _stage(x, blocks: int, channels: int, name: str):
    x = layers.Conv2D(channels, 3, 2, "same", use_bias=True, kernel_initializer="glorot_uniform",
                      name=f"{name}_0")(x)
    x = _prelu(f"{name}_0")(x)
    init = tf.keras.initializers.TruncatedNormal(stddev=0.01)
    for i in range(blocks):
        y = layers.Conv2D(channels, 3, 1, "same", use_bias=False, kernel_initializer=init, name=f"{name}_{2 * i + 1}")(x)
        y = _prelu(f"{name}_{2 * i + 1}")(y)
        y = layers.Conv2D(channels, 3, 1, "same", use_bias=False, kernel_initializer=init, name=f"{name}_{2 * i + 2}")(y)
        y = _prelu(f"{name}_{2 * i + 2}")(y)
        x = layers.Add(name=f"{name}_{i}_add")([y, x])  # no activation after the add
    return x


def build_base(depth: int = 64, embedding_size: int = 512, image_size=(112, 96),
               bn_decay: float = 0.995) -> tf.keras.Model:
    """Normalised pixels [B,112,96,3] -> {'mu': [B,512] unit norm, 'conv_final': [B,21504]}."""
    if depth not in DEPTHS:
        raise ValueError(f"--depth: expected one of {sorted(DEPTHS)}, found {depth}")
    images = tf.keras.Input((*image_size, 3), name="image")
    x = images
    for k, (blocks, channels) in enumerate(zip(DEPTHS[depth], WIDTHS, strict=True), 1):
        x = _stage(x, blocks, channels, f"conv{k}")
    conv_final = layers.Flatten(name="conv_final")(x)  # NHWC order, as slim.flatten
    m = layers.Dense(embedding_size, use_bias=False, kernel_initializer="glorot_uniform", name="bottleneck")(conv_final)
    m = fused.BatchNormalization(momentum=bn_decay, epsilon=1e-3, scale=False, name="bottleneck_bn")(m)
    mu = layers.UnitNormalization(name="mu")(m)
    return tf.keras.Model(images, {"mu": mu, "conv_final": conv_final}, name=f"sphere{depth}")
