"""The original MobileFaceNet_TF checkpoint (sirius-ai, the Ascend port) in our Keras model.

The TF repos' graph is our ``repo`` variant. TF1 names under ``MobileFaceNet/``: ``Conv2d_0``,
``SeparableConv2d`` (depthwise, kernel ``depthwise_weights``) and its linear ``Conv``, then per
inverted-residual block b = 1..15 ``Conv_{2b-1}`` (expand), ``SeparableConv2d_{b}`` and
``Conv_{2b}`` (linear project); ``Conv2d_7``, ``Logits/SeparableConv2d`` (GDConv),
``Logits/Conv`` and ``Logits/LinearConv1x1`` (128 or 192 wide; the release is 192). Every layer
has BN with all four parameters (eps 2e-5) and non-linear ones a ``prelu_alphas`` [C].
``insightface_loss/embedding_weights`` (the training margin head) is not needed for inference.
Inputs are (x − 127.5)·0.0078125, as in the original.
"""

from __future__ import annotations

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import

SCOPE = "MobileFaceNet"
MARGIN_HEAD = "insightface_loss/embedding_weights"
FIXED = {"conv1": "Conv2d_0", "dw_conv2": "SeparableConv2d", "dw_conv2_pw": "Conv", "conv_1x1_512": "Conv2d_7",
         "gdconv": "Logits/SeparableConv2d", "gdconv_pw512": "Logits/Conv", "linear_conv1x1": "Logits/LinearConv1x1"}


def describe(prefix: str) -> dict:
    """Our config (variant, embedding size) of an original checkpoint, from its names and shapes."""
    shapes = tf1_import.list_shapes(prefix)
    final = shapes.get(f"{SCOPE}/Logits/LinearConv1x1/weights")
    if f"{SCOPE}/Conv2d_0/weights" not in shapes or final is None:
        raise StageError(f"{prefix}: expected a MobileFaceNet_TF checkpoint (MobileFaceNet/Conv2d_0/weights and "
                         f"MobileFaceNet/Logits/LinearConv1x1/weights), found variables under "
                         f"{tf1_import.scopes(shapes)}")
    if f"{SCOPE}/Conv/weights" not in shapes:
        raise StageError(f"{prefix}: expected the MobileFaceNet_TF graph (with MobileFaceNet/Conv after the first "
                         f"depthwise conv), found a checkpoint without it")
    return {"variant": "repo", "embedding_size": int(final[-1]), "source": "tf1"}


def layer_scopes(model: tf.keras.Model) -> dict[str, str]:
    """Our layer name -> TF1 scope: blocks are numbered in the order the original builds them."""
    scopes = {name: f"{SCOPE}/{tf1}" for name, tf1 in FIXED.items()}
    blocks = [layer.name[: -len("_expand")] for layer in model.layers if layer.name.endswith("_expand")]
    for b, block in enumerate(blocks, 1):
        scopes[f"{block}_expand"] = f"{SCOPE}/Conv_{2 * b - 1}"
        scopes[f"{block}_dw"] = f"{SCOPE}/SeparableConv2d_{b}"
        scopes[f"{block}_project"] = f"{SCOPE}/Conv_{2 * b}"
    return scopes


def tf1_name(path: str, scopes: dict[str, str], model: tf.keras.Model) -> str:
    """TF1 name of one of our variables (``conv1_prelu/alpha`` -> ``MobileFaceNet/Conv2d_0/prelu_alphas``)."""
    layer, var = path.split("/")
    if layer.endswith("_bn"):
        return f"{scopes[layer[:-3]]}/BatchNorm/{var}"
    if layer.endswith("_prelu"):
        return f"{scopes[layer[:-6]]}/prelu_alphas"
    depthwise = isinstance(model.get_layer(layer), tf.keras.layers.DepthwiseConv2D)
    return f"{scopes[layer]}/{'depthwise_weights' if depthwise else 'weights'}"


def assign_original(model: tf.keras.Model, prefix: str, use_ema: bool = False, head=None) -> None:
    """Every backbone weight (and, given a ``MarginHead``, its class weights) from the original
    checkpoint; leftovers other than the margin head are listed in one warning line."""
    scopes = layer_scopes(model)
    mapping = {tf1_name(v.path, scopes, model): v for v in model.weights}
    if head is not None:
        mapping[MARGIN_HEAD] = head.kernel
    what = f"MobileFaceNet_TF ({model.output.shape[-1]}-d{' with its margin head' if head is not None else ''})"
    unknown = tf1_import.assign(prefix, mapping, what, use_ema)
    tf1_import.warn_unknown(prefix, [n for n in unknown if n != MARGIN_HEAD])
