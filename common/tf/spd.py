"""SPD-matrix layers of covariance pooling networks (Acharya et al. 2018, Huang & Van Gool 2017).

All ops are batched over the leading axis. Eigendecompositions use ``sym_eigh``, whose custom
gradient guards 1/(λi − λj) so that repeated eigenvalues give finite gradients; the fused
``reeig_logeig`` does ReEig and LogEig with one eigendecomposition and differentiates with the
Daleckii–Krein divided differences, which are exact at ties too.
"""

from __future__ import annotations

import tensorflow as tf


def covariance_pool(x: tf.Tensor, ridge: float = 1e-4) -> tf.Tensor:
    """Covariance of features x [B, n, d]: Xcᵀ Xc / (n − 1) + ridge·tr(C)·I  -> [B, d, d].

    n (spatial positions) is below d (channels) in CovPoolFER, so C is rank deficient; the
    trace-relative ridge makes it strictly positive definite.
    """
    n = tf.cast(tf.shape(x)[1], x.dtype)
    xc = x - tf.reduce_mean(x, axis=1, keepdims=True)
    c = tf.matmul(xc, xc, transpose_a=True) / (n - 1.0)
    trace = tf.linalg.trace(c)
    eye = tf.eye(tf.shape(c)[-1], dtype=c.dtype)
    return c + ridge * trace[:, None, None] * eye


def bimap(c: tf.Tensor, w: tf.Variable | tf.Tensor) -> tf.Tensor:
    """Bilinear map Wᵀ C W with W [d_in, d_out] of orthonormal columns -> [B, d_out, d_out]."""
    return tf.einsum("io,bij,jp->bop", w, c, w)


def _eigh_grad(e, v, grad_e, grad_v):
    """Gradient of A -> (e, v) = eigh(A) (A symmetric): V (diag(gλ) + F ∘ VᵀgV) Vᵀ with
    F_ij = 1/(λj − λi) broadened to d/(d² + ε), which is 0 at an exact tie instead of inf."""
    d = e[..., None, :] - e[..., :, None]  # d_ij = λj − λi
    eps = 1e-20 if e.dtype == tf.float64 else 1e-12
    f = tf.linalg.set_diag(d / (d * d + eps), tf.zeros_like(e))
    vt = tf.linalg.matrix_transpose(v)
    inner = tf.linalg.diag(grad_e)
    if grad_v is not None:
        inner = inner + f * tf.matmul(vt, grad_v)
    g = tf.matmul(v, tf.matmul(inner, vt))
    return 0.5 * (g + tf.linalg.matrix_transpose(g))  # symmetric gradient (A is built symmetric)


@tf.custom_gradient
def sym_eigh(c):
    """eigh whose gradient stays finite where eigenvalues repeat."""
    e, v = tf.linalg.eigh(c)

    def grad(grad_e, grad_v):
        return _eigh_grad(e, v, tf.zeros_like(e) if grad_e is None else grad_e, grad_v)

    return (e, v), grad


def _from_eig(v, values):
    return tf.matmul(v * values[..., None, :], v, transpose_b=True)


def reeig(c: tf.Tensor, eps: float = 1e-4, ceiling: float | None = None) -> tf.Tensor:
    """ReEig: U·diag(max(λ, eps))·Uᵀ (the original also caps λ at 1e4; ``ceiling`` keeps that)."""
    e, v = sym_eigh(c)
    e = tf.maximum(e, eps) if ceiling is None else tf.clip_by_value(e, eps, ceiling)
    return _from_eig(v, e)


def logeig(c: tf.Tensor, floor: float | None = None) -> tf.Tensor:
    """LogEig: U·diag(log λ)·Uᵀ; ``floor`` clips λ first (the Ascend covpoolnet2 uses 1e-4)."""
    e, v = sym_eigh(c)
    if floor is not None:
        e = tf.maximum(e, floor)
    return _from_eig(v, tf.math.log(e))


def _spectral(c, fn, dfn):
    """f(C) = U f(λ) Uᵀ with the Daleckii–Krein gradient U (K ∘ Uᵀ sym(G) U) Uᵀ, where
    K_ij = (f(λi) − f(λj)) / (λi − λj), and f'(λi) where λi ≈ λj (finite at repeated λ)."""

    @tf.custom_gradient
    def op(c):
        e, v = tf.linalg.eigh(c)
        fe = fn(e)
        out = _from_eig(v, fe)

        def grad(g):
            g = 0.5 * (g + tf.linalg.matrix_transpose(g))
            diff_e = e[..., :, None] - e[..., None, :]
            diff_f = fe[..., :, None] - fe[..., None, :]
            dfe = dfn(e)
            mean_df = 0.5 * (dfe[..., :, None] + dfe[..., None, :])
            tiny = 1e-6 * (tf.abs(e[..., :, None]) + tf.abs(e[..., None, :])) + 1e-30
            close = tf.abs(diff_e) <= tiny
            k = tf.where(close, mean_df, diff_f / tf.where(close, tf.ones_like(diff_e), diff_e))
            vt = tf.linalg.matrix_transpose(v)
            return tf.matmul(v, tf.matmul(k * tf.matmul(vt, tf.matmul(g, v)), vt))

        return out, grad

    return op(c)


def reeig_logeig(c: tf.Tensor, eps: float = 1e-4, ceiling: float | None = None) -> tf.Tensor:
    """LogEig(ReEig(C)) with one eigendecomposition: U·diag(log(max(λ, eps)))·Uᵀ."""
    def fn(e):
        e = tf.maximum(e, eps) if ceiling is None else tf.clip_by_value(e, eps, ceiling)
        return tf.math.log(e)

    def dfn(e):
        inside = e > eps if ceiling is None else (e > eps) & (e < ceiling)
        return tf.where(inside, 1.0 / tf.maximum(e, eps), tf.zeros_like(e))

    return _spectral(c, fn, dfn)


def stiefel_project(w: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """Riemannian gradient on the Stiefel manifold: G − W·sym(WᵀG)."""
    wtg = tf.matmul(w, grad, transpose_a=True)
    return grad - tf.matmul(w, 0.5 * (wtg + tf.linalg.matrix_transpose(wtg)))


def qr_retract(w: tf.Variable) -> None:
    """Map W back onto the Stiefel manifold after the optimizer step: W ← Q of qr(W)."""
    q, _ = tf.linalg.qr(w)
    w.assign(q)


def orthonormal_init(d_in: int, d_out: int, seed: int | None = None) -> tf.Tensor:
    """Orthonormal columns from the reduced QR of a normal matrix, as the original BiMap init."""
    q, _ = tf.linalg.qr(tf.random.stateless_normal([d_in, d_out], seed=[seed or 0, 1]))
    return q
