"""The fast BN and PReLU layers give Keras' results: outputs, gradients and moving statistics."""

import numpy as np
import pytest
import tensorflow as tf

from common.tf import layers as fused

keras_layers = tf.keras.layers


def _train_once(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * tf.sin(y))  # a loss whose gradient is not constant in y
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    return y.numpy(), [g.numpy() for g in grads], [w.numpy() for w in layer.weights]


def _assert_close(a, b, atol):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("shape", [(8, 5, 5, 6), (8, 6)])
@pytest.mark.parametrize("kwargs", [{}, {"scale": False}, {"center": False, "scale": False}])
def test_batch_norm_trains_as_keras_with_slims_moving_variance(kwargs, shape):
    """Outputs and gradients are Keras'; the moving variance averages the unbiased batch variance
    (TF1 slim's fused batch norm, the originals' trainers), on feature maps and dense features."""
    x = tf.constant(np.random.default_rng(0).normal(1.0, 3.0, shape).astype(np.float32))
    ours = fused.BatchNormalization(momentum=0.9, epsilon=1e-3, **kwargs)
    keras_stats = fused.BatchNormalization(momentum=0.9, epsilon=1e-3, unbiased_moving_variance=False, **kwargs)
    ref = keras_layers.BatchNormalization(momentum=0.9, epsilon=1e-3, **kwargs)
    for layer in (ours, keras_stats, ref):
        layer.build(x.shape)
        if layer.scale:
            layer.gamma.assign(tf.range(1.0, 7.0))
    y, grads, weights = _train_once(ours, x)
    y_ref, grads_ref, weights_ref = _train_once(ref, x)
    np.testing.assert_allclose(y, y_ref, atol=1e-5)
    _assert_close(grads, grads_ref, atol=1e-4)
    _assert_close(_train_once(keras_stats, x)[2], weights_ref, atol=1e-6)  # Keras' biased variance
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(ours.moving_mean.numpy(), 0.1 * x.numpy().mean(axes), rtol=1e-5)
    unbiased = x.numpy().astype(np.float64).var(axes, ddof=1)
    np.testing.assert_allclose(ours.moving_variance.numpy(), 0.9 + 0.1 * unbiased, rtol=1e-5)
    # and the fast path really ran: Keras' own path has no fused kernel
    graph = tf.function(lambda t: ours(t, training=True)).get_concrete_function(x).graph
    assert any(op.type == "FusedBatchNormV3" for op in graph.get_operations())


def test_batch_norm_inference_and_synchronized_keep_keras_path():
    x = tf.constant(np.random.default_rng(1).normal(size=(4, 3, 3, 2)).astype(np.float32))
    ours, ref = fused.BatchNormalization(), keras_layers.BatchNormalization()
    for layer in (ours, ref):
        layer.build(x.shape)
        layer.moving_mean.assign([0.5, -1.0])
        layer.moving_variance.assign([2.0, 0.25])
    np.testing.assert_allclose(ours(x, training=False), ref(x, training=False), atol=1e-6)
    ours.synchronized = True
    graph = tf.function(lambda t: ours(t, training=True)).get_concrete_function(x).graph
    assert not any(op.type == "FusedBatchNormV3" for op in graph.get_operations())


def test_synchronized_batch_norm_keeps_slims_moving_variance():
    """The replicas' path (Keras' moments) trains exactly as the fused one."""
    x = tf.constant(np.random.default_rng(3).normal(2.0, 1.5, (6, 4, 4, 3)).astype(np.float32))
    fast, synced = fused.BatchNormalization(momentum=0.5), fused.BatchNormalization(momentum=0.5)
    synced.synchronized = True
    results = []
    for layer in (fast, synced):
        layer.build(x.shape)
        results.append(_train_once(layer, x))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-5)
    _assert_close(results[1][1], results[0][1], atol=1e-4)
    _assert_close(results[1][2], results[0][2], atol=1e-6)


def test_prelu_matches_keras_forward_and_gradients():
    x = tf.constant(np.random.default_rng(2).normal(size=(4, 5, 5, 3)).astype(np.float32))
    ours = fused.PReLU(shared_axes=[1, 2])
    ref = keras_layers.PReLU(shared_axes=[1, 2])
    for layer in (ours, ref):
        layer.build(x.shape)
        layer.alpha.assign(tf.constant([[[0.25, -0.5, 1.5]]]))  # slopes above 1 and below 0 too
    y, grads, _ = _train_once(ours, x)
    y_ref, grads_ref, _ = _train_once(ref, x)
    np.testing.assert_allclose(y, y_ref, atol=1e-6)
    _assert_close(grads, grads_ref, atol=1e-5)
    np.testing.assert_allclose(ours(x, training=False), y_ref, atol=1e-6)
