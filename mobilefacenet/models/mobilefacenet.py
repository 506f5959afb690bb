"""MobileFaceNet (Chen et al. 2018, Table 1) in Keras, and the TF repos' variant.

paper: conv3x3/2 64 -> dw3x3 64 -> bottlenecks (t,c,n,s) 2,64,5,2 | 4,128,1,2 | 2,128,6,1 |
4,128,1,2 | 2,128,2,1 -> conv1x1 512 -> linear GDConv 7x7 -> linear conv1x1 to the embedding
(BN with fixed gamma): 0.99M weights, 221M multiply-adds at 112x112.
repo (sirius-ai / yangxue0827 / the Ascend port): adds a linear 1x1 64->64 after the first
depthwise and a linear 1x1 512->512 after GDConv, and the last BN learns gamma (1.27M).
PReLU everywhere but on linear layers; BN decay 0.995, eps 2e-5; no biases.
"""

from __future__ import annotations

import tensorflow as tf

from common.tf import layers as fused

layers = tf.keras.layers
STAGES = [(2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1)]  # t, c, n, s
VARIANTS = ("paper", "repo")


def build_model(variant: str = "paper", embedding_size: int = 128, image_size: int = 112,
                weight_decay: float = 5e-5, bn_decay: float = 0.995) -> tf.keras.Model:
    """Normalised pixels [B,112,112,3] -> prelogits [B,embedding_size] (not L2-normalised).

    L2 decay (slim's wd·Σw²/2) sits on ordinary conv kernels only, as in the repos: depthwise
    kernels, BN and PReLU are not decayed.
    """
    if variant not in VARIANTS:
        raise ValueError(f"--variant: expected one of {VARIANTS}, found '{variant}'")
    reg = tf.keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    init = "glorot_normal"

    def bn(x, name, scale=True):
        return fused.BatchNormalization(momentum=bn_decay, epsilon=2e-5, scale=scale, name=f"{name}_bn")(x)

    def prelu(x, name):
        return fused.PReLU(tf.keras.initializers.Constant(0.25), shared_axes=[1, 2], name=f"{name}_prelu")(x)

    def conv(x, filters, kernel, stride=1, act=True, name=None):
        x = layers.Conv2D(filters, kernel, stride, "same", use_bias=False, kernel_initializer=init,
                          kernel_regularizer=reg, name=name)(x)
        x = bn(x, name)
        return prelu(x, name) if act else x

    def depthwise(x, kernel, stride=1, act=True, padding="same", name=None):
        x = layers.DepthwiseConv2D(kernel, stride, padding, use_bias=False, depthwise_initializer=init,
                                   name=name)(x)
        x = bn(x, name)
        return prelu(x, name) if act else x

    def bottleneck(x, cin, cout, t, s, name):
        y = conv(x, cin * t, 1, name=f"{name}_expand")
        y = depthwise(y, 3, s, name=f"{name}_dw")
        y = conv(y, cout, 1, act=False, name=f"{name}_project")  # linear bottleneck
        return layers.Add(name=f"{name}_add")([x, y]) if s == 1 and cin == cout else y

    images = tf.keras.Input((image_size, image_size, 3), name="image")
    x = conv(images, 64, 3, 2, name="conv1")
    x = depthwise(x, 3, name="dw_conv2")
    if variant == "repo":
        x = conv(x, 64, 1, act=False, name="dw_conv2_pw")
    cin = 64
    for si, (t, c, n, s) in enumerate(STAGES):
        for i in range(n):
            x = bottleneck(x, cin, c, t, s if i == 0 else 1, f"stage{si}_block{i}")
            cin = c
    x = conv(x, 512, 1, name="conv_1x1_512")
    x = depthwise(x, x.shape[1], act=False, padding="valid", name="gdconv")  # global depthwise 7x7
    if variant == "repo":
        x = conv(x, 512, 1, act=False, name="gdconv_pw512")
    x = layers.Conv2D(embedding_size, 1, use_bias=False, kernel_initializer=init, kernel_regularizer=reg,
                      name="linear_conv1x1")(x)
    x = bn(x, "linear_conv1x1", scale=variant == "repo")  # insightface's fc1: fix_gamma
    prelogits = layers.Flatten(name="prelogits")(x)
    return tf.keras.Model(images, prelogits, name=f"mobilefacenet_{variant}")


def l2_normalize(prelogits: tf.Tensor) -> tf.Tensor:
    """The repos' `embeddings` node: tf.nn.l2_normalize(prelogits, 1, 1e-10)."""
    return tf.math.l2_normalize(prelogits, axis=1, epsilon=1e-10)


def multiply_adds(model: tf.keras.Model) -> int:
    """Multiply-adds of one image through the conv, depthwise and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            h, w = layer.output.shape[1:3]
            total += h * w * layer.output.shape[-1] * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, layers.Conv2D):
            h, w = layer.output.shape[1:3]
            total += h * w * layer.filters * layer.kernel_size[0] * layer.kernel_size[1] * layer.input.shape[-1]
    return int(total)
