"""CovPoolFER's temporal pooling network (Acharya et al., CVPRW 2018, the video half): the
covariance of a clip's per-frame 128-d features goes through four BiRe layers (BiMap W·ᵀX·W with
a Stiefel weight, then ReEig clipping the eigenvalues to [1e-4, 1e4]) 128 -> 64 -> 32 -> 16 -> 8,
LogEig, flatten 64, a 32-wide bottleneck (batch norm without scale, no activation) and the logits.

The input is the clip's covariance, [B, 128, 128] (covpoolfer.afew.clip_covariance); the original
hard-codes the batch (31) in a reshape, this network takes any batch.
"""

from __future__ import annotations

import tensorflow as tf

from common.tf import layers as fused
from common.tf import spd

layers = tf.keras.layers
DIMS = (64, 32, 16, 8)  # each BiRe halves the matrix
BOTTLENECK = 32
EIG_FLOOR, EIG_CEILING = 1e-4, 1e4  # the original's ReEig clip


@tf.keras.utils.register_keras_serializable("covpoolfer")
class BiRe(layers.Layer):
    """BiMap (Wᵀ·X·W, W [d_in, d_out] with orthonormal columns, QR-initialised) then ReEig; with
    ``log`` the LogEig that follows the last BiRe is taken from the same eigendecomposition."""

    def __init__(self, out_dim: int, index: int, log: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.out_dim, self.index, self.log, self.seed = out_dim, index, log, seed

    def build(self, input_shape):
        init = spd.orthonormal_init(int(input_shape[-1]), self.out_dim, self.seed + self.index)
        self.orth_weight = self.add_weight(name=f"orth_weight{self.index}", shape=(int(input_shape[-1]), self.out_dim),
                                           initializer=lambda shape, dtype=None: init)

    def call(self, x):
        y = spd.bimap(x, self.orth_weight)
        if self.log:
            return spd.reeig_logeig(y, EIG_FLOOR, EIG_CEILING)
        return spd.reeig(y, EIG_FLOOR, EIG_CEILING)

    def get_config(self):
        return {**super().get_config(), "out_dim": self.out_dim, "index": self.index, "log": self.log,
                "seed": self.seed}


def build_temporal_model(num_classes: int = 7, input_dim: int = 128, dims: tuple[int, ...] = DIMS,
                         bottleneck: int = BOTTLENECK, bn_decay: float = 0.995, seed: int = 0) -> tf.keras.Model:
    """Clip covariances [B, input_dim, input_dim] -> {"logits", "prelogits"} (prelogits: the
    bottleneck, which the centre loss pulls together)."""
    covariances = layers.Input((input_dim, input_dim), name="input")
    x = covariances
    for k, dim in enumerate(dims):
        x = BiRe(dim, k, log=k == len(dims) - 1, seed=seed, name=f"bire_{k + 1}")(x)
    x = layers.Reshape((dims[-1] * dims[-1],), name="flatten")(x)
    x = layers.Dense(bottleneck, use_bias=False, kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                     name="Bottleneck")(x)
    prelogits = fused.BatchNormalization(momentum=bn_decay, epsilon=1e-3, scale=False, name="Bottleneck_bn")(x)
    logits = layers.Dense(num_classes, kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                          name="Logits")(prelogits)
    return tf.keras.Model(covariances, {"logits": logits, "prelogits": prelogits}, name="temporal_pool")
