"""The original CovPoolFER checkpoints (d-acharya/CovPoolFER, the Ascend port) in our Keras model.

TF1 names: ``<scope>/<layer>/weights`` and ``<scope>/<layer>/BatchNorm/{beta,moving_mean,
moving_variance}`` (BN without gamma, eps 1e-3), ``<scope>/spdpooling1/orth_weight0``, and
``Logits/{weights,biases}`` outside the scope. The scope is ``CovPoolNetwork`` (covpoolnet.py),
``CovPool2`` (covpoolnet2.py) or ``DLP-CNN`` (the author's released SFEW/RAF models); a
``fc_2`` layer means covpoolnet. The original's prewhitening, (x − mean)/max(std, 1/√N), is the
model's first layer, so raw pixels go in as before.
"""

from __future__ import annotations

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import

SCOPES = ("CovPoolNetwork", "CovPool2", "DLP-CNN")
WHAT = "a CovPoolFER network"


def describe(prefix: str) -> dict:
    """Our model config for an original checkpoint, read off its variable names and shapes."""
    shapes = tf1_import.list_shapes(prefix)
    scope = next((s for s in SCOPES if f"{s}/Conv2d_1/weights" in shapes), None)
    if scope is None:
        raise StageError(f"{prefix}: expected a CovPoolFER checkpoint (<scope>/Conv2d_1/weights with scope "
                         f"{', '.join(SCOPES)}), found variables under {tf1_import.scopes(shapes)}")
    bottleneck = shapes.get(f"{scope}/Bottleneck/weights")
    logits = shapes.get("Logits/weights")
    if bottleneck is None or logits is None:
        missing = f"{scope}/Bottleneck/weights" if bottleneck is None else "Logits/weights"
        raise StageError(f"{prefix}: expected every variable of {WHAT}, found {missing} missing")
    return {"model_def": "covpoolnet" if f"{scope}/fc_2/weights" in shapes else "covpoolnet2",
            "embedding_size": int(bottleneck[-1]), "num_classes": int(logits[-1]), "image_size": 100,
            "eig_floor": 1e-4, "scope": scope, "source": "tf1"}


def tf1_name(path: str, scope: str) -> str:
    """TF1 name of one of our variables (``fc_1_bn/beta`` -> ``<scope>/fc_1/BatchNorm/beta``)."""
    layer, var = path.split("/")
    if layer == "Logits":
        return f"Logits/{'weights' if var == 'kernel' else 'biases'}"
    if layer.endswith("_bn"):
        return f"{scope}/{layer[:-3]}/BatchNorm/{var}"
    return f"{scope}/{layer}/{'weights' if var == 'kernel' else var}"


def assign_original(model: tf.keras.Model, prefix: str, config: dict, use_ema: bool = False) -> None:
    """Every weight of ``model`` from the original checkpoint; one warning line for leftovers."""
    mapping = {tf1_name(v.path, config["scope"]): v for v in model.weights}
    unknown = tf1_import.assign(prefix, mapping, f"{WHAT} ({config['model_def']})", use_ema)
    tf1_import.warn_unknown(prefix, unknown)
