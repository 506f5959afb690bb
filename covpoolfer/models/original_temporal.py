"""The released CovPoolFER temporal pooling checkpoint (d-acharya/CovPoolFER,
temporal_pooling/models/20180618-004944) in our Keras model (models/temporal.py).

TF1 names: ``TemporalPool/spdpooling/orth_weight0..3`` ([128,64], [64,32], [32,16], [16,8]),
``TemporalPool/Bottleneck/weights`` and its ``BatchNorm/{beta,moving_mean,moving_variance}``
(no gamma, eps 1e-3), and ``Logits/{weights,biases}`` outside the scope.
"""

from __future__ import annotations

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import

SCOPE = "TemporalPool"
WHAT = "CovPoolFER's temporal pooling network"


def describe(prefix: str) -> dict:
    """Our config of a temporal pooling checkpoint (BiRe widths, classes), from names and shapes."""
    shapes = tf1_import.list_shapes(prefix)
    weights = [shapes.get(f"{SCOPE}/spdpooling/orth_weight{k}") for k in range(8)]
    weights = weights[: weights.index(None)] if None in weights else weights
    if not weights:
        raise StageError(f"{prefix}: expected a temporal pooling checkpoint ({SCOPE}/spdpooling/orth_weight0), found "
                         f"variables under {tf1_import.scopes(shapes)}")
    bottleneck, logits = shapes.get(f"{SCOPE}/Bottleneck/weights"), shapes.get("Logits/weights")
    if bottleneck is None or logits is None:
        missing = f"{SCOPE}/Bottleneck/weights" if bottleneck is None else "Logits/weights"
        raise StageError(f"{prefix}: expected every variable of {WHAT}, found {missing} missing")
    return {"input_dim": int(weights[0][0]), "dims": [int(w[1]) for w in weights], "bottleneck": int(bottleneck[-1]),
            "num_classes": int(logits[-1]), "source": "tf1"}


def tf1_name(path: str) -> str:
    """TF1 name of one of our variables (``bire_1/orth_weight0`` -> ``TemporalPool/spdpooling/orth_weight0``)."""
    layer, var = path.split("/")
    if layer.startswith("bire_"):
        return f"{SCOPE}/spdpooling/{var}"
    if layer == "Logits":
        return f"Logits/{'weights' if var == 'kernel' else 'biases'}"
    if layer == "Bottleneck_bn":
        return f"{SCOPE}/Bottleneck/BatchNorm/{var}"
    return f"{SCOPE}/Bottleneck/weights"


def assign_original(model: tf.keras.Model, prefix: str, use_ema: bool = False) -> None:
    """Every weight of ``model`` from the release; one warning line for leftovers."""
    unknown = tf1_import.assign(prefix, {tf1_name(v.path): v for v in model.weights}, WHAT, use_ema)
    tf1_import.warn_unknown(prefix, unknown)
