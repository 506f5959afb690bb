"""The original PFE checkpoints (seasonSH/Probabilistic-Face-Embeddings) in our Keras models.

TF1 names: ``SphereNet/conv{k}/Conv/{weights,biases,p_re_lu/alpha}`` for the stride-2 conv that
opens stage k, ``SphereNet/conv{k}/Conv_{j}/{weights,p_re_lu/alpha}`` for the 2·n_k residual
convs (n_k gives the depth: 4, 10, 20, 36 or 64), ``SphereNet/Bottleneck/weights`` + BN without
gamma; the head ``UncertaintyModule/fc1`` (full BN), ``fc_log_sigma_sq`` (BN without beta and
gamma) and ``scale_and_shift/{alpha,gamma}``, where alpha is the scale and gamma the shift. A
base-only checkpoint (the released ``sphere64_casia_am``) has no UncertaintyModule. Inputs are
(x − 127.5)/128 as in the original.
"""

from __future__ import annotations

import re

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import

HEAD_NAMES = {"scale_and_shift/scale": "scale_and_shift/alpha", "scale_and_shift/shift": "scale_and_shift/gamma"}


def describe(prefix: str) -> dict:
    """Our config (depth, embedding size, whether the uncertainty head is there) of a checkpoint."""
    from pfe.models.sphere_net import DEPTHS

    shapes = tf1_import.list_shapes(prefix)
    if "SphereNet/conv1/Conv/weights" not in shapes:
        raise StageError(f"{prefix}: expected a PFE checkpoint (SphereNet/conv1/Conv/weights), found "
                         f"variables under {tf1_import.scopes(shapes)}")
    blocks = []
    for k in range(1, 5):
        convs = [int(m.group(1)) for n in shapes
                 if (m := re.fullmatch(rf"SphereNet/conv{k}/Conv_(\d+)/weights", n))]
        blocks.append(max(convs, default=0) // 2)
    depth = next((d for d, n in DEPTHS.items() if n == blocks), None)
    if depth is None:
        raise StageError(f"{prefix}: expected a sphere net of depth {', '.join(map(str, DEPTHS))} "
                         f"(residual blocks per stage {', '.join(str(tuple(n)) for n in DEPTHS.values())}), "
                         f"found blocks {tuple(blocks)}")
    bottleneck = shapes.get("SphereNet/Bottleneck/weights")
    if bottleneck is None:
        raise StageError(f"{prefix}: expected every variable of a PFE sphere{depth}, found "
                         f"SphereNet/Bottleneck/weights missing")
    head = "UncertaintyModule/fc1/weights" in shapes
    return {"depth": depth, "embedding_size": int(bottleneck[-1]), "stage": "train" if head else "train_base",
            "source": "tf1"}


def base_name(path: str) -> str:
    """TF1 name of a sphere-net variable (``conv2_3_prelu/alpha`` -> ``SphereNet/conv2/Conv_3/p_re_lu/alpha``)."""
    layer, var = path.split("/")
    if layer.startswith("bottleneck"):
        return "SphereNet/Bottleneck/" + (f"BatchNorm/{var}" if layer.endswith("_bn") else "weights")
    stage, index = re.fullmatch(r"(conv\d)_(\d+)(?:_prelu)?", layer).groups()
    scope = f"SphereNet/{stage}/Conv" + (f"_{index}" if index != "0" else "")
    if layer.endswith("_prelu"):
        return f"{scope}/p_re_lu/alpha"
    return f"{scope}/{'weights' if var == 'kernel' else 'biases'}"


def head_name(path: str) -> str:
    """TF1 name of an uncertainty-head variable (``fc1_bn/gamma`` -> ``UncertaintyModule/fc1/BatchNorm/gamma``)."""
    if path in HEAD_NAMES:
        return f"UncertaintyModule/{HEAD_NAMES[path]}"
    layer, var = path.split("/")
    if layer.endswith("_bn"):
        return f"UncertaintyModule/{layer[:-3]}/BatchNorm/{var}"
    return f"UncertaintyModule/{layer}/weights"


def assign_original(prefix: str, base: tf.keras.Model, head: tf.keras.Model | None = None,
                    use_ema: bool = False) -> None:
    """The base's (and, when given, the head's) weights from an original checkpoint."""
    mapping = {base_name(v.path): v for v in base.weights}
    if head is not None:
        mapping.update({head_name(v.path): v for v in head.weights})
    what = f"a PFE {base.name}" + (" with its uncertainty module" if head is not None else "")
    unknown = tf1_import.assign(prefix, mapping, what, use_ema)
    tf1_import.warn_unknown(prefix, unknown)
