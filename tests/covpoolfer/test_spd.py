"""SPD ops: covariance, BiMap, ReEig/LogEig values, finite gradients at repeated eigenvalues."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from common.tf import spd  # noqa: E402

pytestmark = pytest.mark.tf


def _spd(n, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).normal(size=(2, n, n))
    return (a @ a.transpose(0, 2, 1) / n + 0.1 * np.eye(n)).astype(dtype)


def test_covariance_pool_matches_numpy():
    x = np.random.default_rng(0).normal(size=(2, 10, 4))
    c = spd.covariance_pool(tf.constant(x)).numpy()
    for b in range(2):
        ref = np.cov(x[b], rowvar=False)
        ref += 1e-4 * np.trace(ref) * np.eye(4)
        np.testing.assert_allclose(c[b], ref, rtol=1e-10)


def test_bimap_is_wt_c_w_and_keeps_spd():
    c = _spd(6)
    w = spd.orthonormal_init(6, 3).numpy().astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-6)
    y = spd.bimap(tf.constant(c), tf.constant(w)).numpy()
    np.testing.assert_allclose(y, w.T @ c @ w, rtol=1e-10)
    assert (np.linalg.eigvalsh(y) > 0).all()


def test_fused_reeig_logeig_equals_two_steps():
    c = tf.constant(_spd(8, 1) - 0.08 * np.eye(8))  # some eigenvalues below eps after the shift
    two = spd.logeig(spd.reeig(c, eps=0.05))
    one = spd.reeig_logeig(c, eps=0.05)
    np.testing.assert_allclose(one.numpy(), two.numpy(), atol=1e-10)
    e, v = np.linalg.eigh(c.numpy())
    ref = v @ (np.log(np.maximum(e, 0.05))[..., None] * v.transpose(0, 2, 1))
    np.testing.assert_allclose(one.numpy(), ref, atol=1e-10)


def test_fused_gradient_matches_finite_differences():
    c = tf.constant(_spd(5, 2))
    g = tf.constant(np.random.default_rng(3).normal(size=(2, 5, 5)))
    theoretical, numerical = tf.test.compute_gradient(
        lambda m: tf.reduce_sum(spd.reeig_logeig(0.5 * (m + tf.linalg.matrix_transpose(m))) * g), [c])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=1e-4, atol=1e-4)


def test_sym_eigh_gradient_matches_finite_differences():
    c = tf.constant(_spd(4, 4))

    def f(m):
        m = 0.5 * (m + tf.linalg.matrix_transpose(m))
        return spd.logeig(m)

    theoretical, numerical = tf.test.compute_gradient(f, [c])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("op", ["fused", "guarded"])
def test_gradients_finite_with_repeated_eigenvalues(op):
    c = tf.constant(np.stack([np.eye(6) * 2.0, np.diag([1.0, 1.0, 1.0, 3.0, 3.0, 5.0])]), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(c)
        out = spd.reeig_logeig(c) if op == "fused" else spd.logeig(spd.reeig(c))
        loss = tf.reduce_sum(out * tf.random.stateless_normal(out.shape, [1, 2]))
    grad = tape.gradient(loss, c)
    assert np.isfinite(grad.numpy()).all()


def test_eigenvector_gradient_is_finite_at_exact_ties():
    c = tf.constant(np.eye(3)[None] * 2.0, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(c)
        e, v = spd.sym_eigh(c)
        loss = tf.reduce_sum(v * tf.constant(np.arange(9.0).reshape(1, 3, 3)))
    assert np.isfinite(tape.gradient(loss, c).numpy()).all()


def test_stiefel_projection_is_tangent_and_qr_retracts():
    w = tf.Variable(spd.orthonormal_init(6, 3, seed=1))
    g = tf.random.stateless_normal((6, 3), [0, 1])
    p = spd.stiefel_project(w, g)
    sym = tf.matmul(w, p, transpose_a=True)
    np.testing.assert_allclose((sym + tf.transpose(sym)).numpy(), 0, atol=1e-5)  # WᵀP skew
    w.assign_add(0.3 * p)
    spd.qr_retract(w)
    np.testing.assert_allclose(tf.matmul(w, w, transpose_a=True).numpy(), np.eye(3), atol=1e-5)
