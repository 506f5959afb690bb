"""PFE's LFW scores: cosine (−‖Δμ‖²) and MLS, under the PFE 10-fold protocol (official folds,
genuine training scores as candidate thresholds, ties averaged, score ≥ t)."""

from __future__ import annotations

import numpy as np

from common.metrics import cosine_pair_score, mls_pair_score, verify_pfe


def lfw_scores(mu: np.ndarray, sigma_sq: np.ndarray, index: np.ndarray) -> dict[str, np.ndarray]:
    a, b = index[:, 0], index[:, 1]
    mu, sigma_sq = np.asarray(mu, np.float64), np.asarray(sigma_sq, np.float64)
    return {"cosine": cosine_pair_score(mu[a], mu[b]), "MLS": mls_pair_score(mu[a], sigma_sq[a], mu[b], sigma_sq[b])}


def report(scores: dict[str, np.ndarray], pairs, echo=print) -> dict[str, float]:
    """Print the original's two lines and return the accuracies and thresholds (as printed: a
    distance, −mean of the folds' score thresholds)."""
    cos = verify_pfe(scores["cosine"], pairs.issame, pairs.folds)
    mls = verify_pfe(scores["MLS"], pairs.issame, pairs.folds)
    echo(f"Euclidean (cosine) accuracy: {cos.accuracy:.5f} threshold: {-cos.threshold:.5f}")
    echo(f"MLS accuracy: {mls.accuracy:.5f} threshold: {-mls.threshold:.5f}")
    return {"cosine": cos.accuracy, "MLS": mls.accuracy, "cosine_threshold": -cos.threshold,
            "MLS_threshold": -mls.threshold, "pairs": len(pairs.issame)}
