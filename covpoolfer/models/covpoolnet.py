"""CovPoolFER networks (Acharya et al., CVPRW 2018) in Keras.

Backbone: six 3x3 convs 64-96-128-128-256-256 (BN without scale, ReLU) with three 2x2 VALID
max-pools -> 12x12x256 -> covariance 256x256 -> BiMap 128 -> ReEig -> LogEig -> flatten 16384.
Head `covpoolnet`: fc_1 2000 -> fc_2 128 -> Bottleneck; `covpoolnet2`: fc_1 2000 -> Bottleneck.
Logits (bias, no BN) follow the bottleneck. The batch size is never fixed in the graph.
"""

from __future__ import annotations

import tensorflow as tf

from common.tf import layers as fused
from common.tf import spd
from covpoolfer.models import MODEL_DEFS

layers = tf.keras.layers
BN_DECAY = 0.995  # the original batch_norm_params


def _init():
    return tf.keras.initializers.TruncatedNormal(stddev=0.1)


@tf.keras.utils.register_keras_serializable("covpoolfer")
class PerImageStandardization(layers.Layer):
    """(x − mean) / max(std, 1/√N) per image, so the model takes raw 0..255 pixels."""

    def call(self, x):
        return tf.image.per_image_standardization(x)


@tf.keras.utils.register_keras_serializable("covpoolfer")
class SPDPooling(layers.Layer):
    """Covariance pooling + BiMap (Stiefel weight ``orth_weight0``) + ReEig + LogEig."""

    def __init__(self, out_dim: int = 128, eps: float = 1e-4, ceiling: float | None = 1e4,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.out_dim, self.eps, self.ceiling, self.seed = out_dim, eps, ceiling, seed

    def build(self, input_shape):
        d = int(input_shape[-1])
        init = spd.orthonormal_init(d, self.out_dim, self.seed)
        self.orth_weight = self.add_weight(name="orth_weight0", shape=(d, self.out_dim),
                                           initializer=lambda shape, dtype=None: init)

    def call(self, x):
        shape = tf.shape(x)
        feats = tf.reshape(x, [shape[0], shape[1] * shape[2], x.shape[-1]])
        c = spd.covariance_pool(feats)
        y = spd.bimap(c, self.orth_weight)
        z = spd.reeig_logeig(y, self.eps, self.ceiling)  # one eigendecomposition for both
        return tf.reshape(z, [shape[0], self.out_dim * self.out_dim])

    def get_config(self):
        return {**super().get_config(), "out_dim": self.out_dim, "eps": self.eps,
                "ceiling": self.ceiling, "seed": self.seed}


def _bn(x, name, decay):
    """slim batch_norm as the original configures it: no scale, eps 1e-3."""
    return fused.BatchNormalization(momentum=decay, epsilon=1e-3, center=True, scale=False, name=name)(x)


def _conv(x, filters, name, decay):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=_init(),
                      name=name)(x)
    x = _bn(x, f"{name}_bn", decay)
    return layers.ReLU(name=f"{name}_relu")(x)


def _fc(x, units, name, decay, relu=True):
    x = layers.Dense(units, use_bias=False, kernel_initializer=_init(), name=name)(x)
    x = _bn(x, f"{name}_bn", decay)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def build_model(model_def: str = "covpoolnet2", num_classes: int = 7, embedding_size: int | None = None,
                image_size: int = 100, keep_probability: float = 0.8, apply_dropout: bool = True,
                seed: int = 0, bn_decay: float = BN_DECAY,
                eig_floor: float = 1e-4) -> tf.keras.Model:
    """A Keras model: raw 0..255 pixels -> {'logits', 'prelogits', 'features', 'embeddings'}.

    ``features`` is what the paper's SVM reads: the fc_2 BN output (before ReLU) for
    covpoolnet, the prelogits for covpoolnet2. Dropout (rate 1 − keep_probability) sits before
    the bottleneck; ``apply_dropout=False`` reproduces the original, which ignores the flag.
    ``bn_decay`` is the moving-average decay of the BN statistics used at inference: 0.995
    needs ~1000 steps to forget its initial values, so short runs want a smaller one.
    """
    if model_def not in MODEL_DEFS:
        raise ValueError(f"--model_def: expected one of {MODEL_DEFS}, found '{model_def}'")
    embedding_size = embedding_size or (7 if model_def == "covpoolnet" else 128)
    images = tf.keras.Input((image_size, image_size, 3), name="image")
    x = PerImageStandardization(name="standardize")(images)
    x = _conv(x, 64, "Conv2d_1", bn_decay)
    x = layers.MaxPool2D(2, 2, padding="valid", name="MaxPool_1")(x)
    x = _conv(x, 96, "Conv2d_2", bn_decay)
    x = layers.MaxPool2D(2, 2, padding="valid", name="MaxPool_2")(x)
    x = _conv(x, 128, "Conv2d_3", bn_decay)
    x = _conv(x, 128, "Conv2d_4", bn_decay)
    x = layers.MaxPool2D(2, 2, padding="valid", name="MaxPool_3")(x)
    x = _conv(x, 256, "Conv2d_5", bn_decay)
    x = _conv(x, 256, "Conv2dfo_6", bn_decay)
    x = SPDPooling(128, eps=eig_floor, seed=seed, name="spdpooling1")(x)
    x = _fc(x, 2000, "fc_1", bn_decay)
    features = None
    if model_def == "covpoolnet":
        x = layers.Dense(128, use_bias=False, kernel_initializer=_init(), name="fc_2")(x)
        features = _bn(x, "fc_2_bn", bn_decay)
        x = layers.ReLU(name="fc_2_relu")(features)
    # Always present (rate 0 when off) so checkpoints match between training and export.
    rate = 1.0 - keep_probability if apply_dropout else 0.0
    x = layers.Dropout(rate, seed=seed, name="dropout")(x)
    prelogits = _fc(x, embedding_size, "Bottleneck", bn_decay, relu=False)
    logits = layers.Dense(num_classes, kernel_initializer=_init(), name="Logits")(prelogits)
    embeddings = layers.UnitNormalization(name="embeddings")(prelogits)
    outputs = {"logits": logits, "prelogits": prelogits,
               "features": features if features is not None else prelogits,
               "embeddings": embeddings}
    return tf.keras.Model(images, outputs, name=model_def)


def decayed_kernels(model: tf.keras.Model) -> list[tf.Variable]:
    """Conv, fc and Logits kernels: what slim.l2_regularizer decays (not BN, not orth W)."""
    return [layer.kernel for layer in model.layers
            if isinstance(layer, (layers.Conv2D, layers.Dense))]
