"""Optimizers whose update is the TF1 one that the original trainers ran."""

from __future__ import annotations

import tensorflow as tf


@tf.keras.utils.register_keras_serializable("facezoo")
class TF1Momentum(tf.keras.optimizers.SGD):
    """tf.compat.v1.train.MomentumOptimizer: accum ← m·accum + g, then w ← w − lr·accum
    (Nesterov: w ← w − lr·(g + m·accum)). Keras' SGD keeps the rate inside its velocity,
    v ← m·v − lr·g: the same steps while lr is constant, but after a drop (PFE's 10× at step
    2000) Keras' velocity still moves at the old rate for a while. Same slot variables as SGD."""

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=False, **kwargs):
        if not momentum > 0:
            raise ValueError(f"TF1Momentum: expected a momentum above 0, found {momentum}")
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        g = tf.cast(gradient, variable.dtype)
        accum = self.momentums[self._get_variable_index(variable)]
        self.assign(accum, accum * self.momentum + g)
        self.assign_sub(variable, lr * (g + self.momentum * accum if self.nesterov else accum))
