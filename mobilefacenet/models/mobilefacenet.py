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

from common.cli import StageError
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


def restore_model(ckpt_path: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict, str]:
    """The backbone of a train_nets run (run folder, its best/ folder, or a ckpt-N prefix) or of
    the original MobileFaceNet_TF checkpoint (folder or prefix), its config and the checkpoint
    prefix. Fails if a backbone weight is missing."""
    from common.tf import tf1_import
    from common.tf.training import read_config, restore_objects

    if tf1_import.is_original(prefix := tf1_import.find_checkpoint(ckpt_path)):
        from mobilefacenet.models.original import load_original

        return (*load_original(prefix, use_ema), prefix)
    config, prefix = read_config(ckpt_path)
    if "variant" not in config or "embedding_size" not in config:
        raise StageError(f"{prefix}: expected a MobileFaceNet train_nets run (config.json with variant and "
                         f"embedding_size), found the run of another model")
    model = build_model(config["variant"], config["embedding_size"], weight_decay=0.0)
    restore_objects(prefix, f"a MobileFaceNet ({config['variant']}, {config['embedding_size']}-d)", model=model)
    return model, config, prefix


def load_pretrained(model: tf.keras.Model, path: str, head=None) -> str:
    """Start training from the original checkpoint or one of our runs (``--pretrained_model``):
    every backbone weight is read, so variant and embedding size must match; given the margin
    ``head`` (``--restore_head``), its class weights too, as the original's Saver restores
    them. Returns the prefix."""
    from common.tf import tf1_import
    from common.tf.training import restore_objects

    prefix = tf1_import.find_checkpoint(path)
    if tf1_import.is_original(prefix):
        from mobilefacenet.models.original import assign_original, describe

        config = describe(prefix)
        wanted = (model.name.removeprefix("mobilefacenet_"), model.output.shape[-1])
        if wanted != (config["variant"], config["embedding_size"]):
            raise StageError(f"{prefix}: --pretrained_model: expected the {wanted[0]} variant with {wanted[1]}-d "
                             f"embeddings, found the {config['variant']} variant with {config['embedding_size']}-d "
                             f"(pass --variant {config['variant']} --embedding_size {config['embedding_size']})")
        assign_original(model, prefix, head=head)
    else:
        heads = {"head": head} if head is not None else {}
        restore_objects(prefix, f"a MobileFaceNet like this run's ({model.name}, {model.output.shape[-1]}-d"
                                f"{', with a margin head of as many classes' if heads else ''})", model=model, **heads)
    return prefix
