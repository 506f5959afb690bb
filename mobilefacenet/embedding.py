"""LFW-style verification of a MobileFaceNet: embeddings of a .bin, the 10-fold accuracy."""

from __future__ import annotations

import numpy as np

from common.metrics import VerificationResult, verify_insightface
from mobilefacenet.data import decode_verification_images, read_verification_bin


def embed(model, images: np.ndarray, batch_size: int = 100, flip: bool = False) -> np.ndarray:
    """L2-normalised embeddings; ``flip`` adds the flipped image's prelogits before normalising
    (insightface's "Accuracy-Flip"), the repos' default is without."""
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size]
        e = model(x, training=False).numpy().astype(np.float64)
        if flip:
            e = e + model(x[:, :, ::-1], training=False).numpy()
        out.append(e)
    e = np.concatenate(out)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-10)


def verify(embeddings: np.ndarray, issame: np.ndarray, nrof_folds: int = 10) -> VerificationResult:
    """verification.evaluate: pairs (2k, 2k+1), squared L2, thresholds 0..4 step 0.01."""
    return verify_insightface(embeddings[0::2], embeddings[1::2], issame, nrof_folds)


def load_bin(path, bgr: bool = False) -> tuple[np.ndarray, np.ndarray]:
    bins, issame = read_verification_bin(path)
    return decode_verification_images(bins, path, bgr=bgr), issame
