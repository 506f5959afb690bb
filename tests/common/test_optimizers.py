"""TF1Momentum moves weights as tf.compat.v1.train.MomentumOptimizer does, across a rate drop."""

import numpy as np
import pytest
import tensorflow as tf

from common.tf.optimizers import TF1Momentum

v1 = tf.compat.v1
STEPS = [([0.5, 1.0], 0.1), ([0.2, -1.0], 0.1), ([1.0, 1.0], 0.01), ([0.3, 0.3], 0.01)]  # lr drops 10x


@pytest.mark.parametrize("nesterov", [False, True])
def test_tf1_momentum_matches_the_v1_optimizer_across_a_learning_rate_drop(nesterov):
    graph = tf.Graph()
    with graph.as_default():
        ref = v1.Variable([1.0, -2.0])
        grad, rate = v1.placeholder(tf.float32, [2]), v1.placeholder(tf.float32, [])
        apply = v1.train.MomentumOptimizer(rate, 0.9, use_nesterov=nesterov).apply_gradients([(grad, ref)])
        sess = v1.Session(graph=graph)
        sess.run(v1.global_variables_initializer())
    ours = tf.Variable([1.0, -2.0])
    keras_sgd = tf.Variable([1.0, -2.0])
    opt, sgd = TF1Momentum(0.1, 0.9, nesterov=nesterov), tf.keras.optimizers.SGD(0.1, 0.9, nesterov=nesterov)
    for g, lr in STEPS:
        opt.learning_rate.assign(lr)
        sgd.learning_rate.assign(lr)
        opt.apply_gradients([(tf.constant(g), ours)])
        sgd.apply_gradients([(tf.constant(g), keras_sgd)])
        sess.run(apply, {grad: g, rate: lr})
        np.testing.assert_allclose(ours.numpy(), sess.run(ref), rtol=1e-6)
    # Keras' velocity carries the old rate past the drop: the reason for the class
    assert np.abs(keras_sgd.numpy() - sess.run(ref)).max() > 1e-3
