"""AFEW clips as the temporal pooling stages read them: one folder per emotion, one folder per
clip holding ``<clip>.npy``, the clip's per-frame features [frames, 128] from the image model,
and the clip covariance the network takes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError


@dataclass
class Clips:
    paths: list[Path]  # the clip folders, by class then name (facenet's get_dataset order)
    labels: np.ndarray
    class_names: list[str]  # folder names, '_' read as ' ' as the original prints them


def list_clips(data_dir: str | os.PathLike) -> Clips:
    """Every ``<Emotion>/<clip>/`` folder holding ``<clip>.npy``; the classes are the sorted
    emotion folders. A clip folder without its .npy is one line."""
    root = Path(data_dir)
    if not root.is_dir():
        raise StageError(f"{root}: expected a folder of emotion folders of clip feature folders, found "
                         f"{'a file' if root.exists() else 'nothing'}")
    classes = sorted(d for d in root.iterdir() if d.is_dir())
    if not classes:
        raise StageError(f"{root}: expected emotion folders (Angry/, Disgust/, ...), found none")
    paths, labels = [], []
    for label, folder in enumerate(classes):
        for clip in sorted(d for d in folder.iterdir() if d.is_dir()):
            if not (clip / f"{clip.name}.npy").is_file():
                raise StageError(f"{clip}: expected the clip's features {clip.name}.npy, found "
                                 f"{', '.join(sorted(f.name for f in clip.iterdir())[:3]) or 'an empty folder'}")
            paths.append(clip)
            labels.append(label)
    if not paths:
        raise StageError(f"{root}: expected clip folders inside the emotion folders, found none")
    return Clips(paths, np.array(labels, np.int64), [d.name.replace("_", " ") for d in classes])


def load_features(clip: Path, dim: int = 128) -> np.ndarray:
    """A clip's per-frame features [frames, dim], checked."""
    path = clip / f"{clip.name}.npy"
    try:
        features = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise StageError(f"{path}: expected a NumPy array of per-frame features, found an unreadable file "
                         f"({err})") from None
    if features.ndim != 2 or features.shape[1] != dim or not np.issubdtype(features.dtype, np.number):
        raise StageError(f"{path}: expected features [frames, {dim}], found {features.dtype} {list(features.shape)}")
    return features


def clip_covariance(features: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """The clip's covariance over its frames, Xcᵀ·Xc / (n − 1) + ridge·tr(C)·I, float32: the
    original's; the trace-relative ridge keeps it positive definite with fewer frames than dims."""
    x = np.asarray(features, np.float64)
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / (len(x) - 1.0)
    return (cov + ridge * np.trace(cov) * np.eye(x.shape[1])).astype(np.float32)


def temporal_subset(frames: int, rng: np.random.Generator) -> np.ndarray:
    """The original's clip augmentation, one of three chosen at random: every frame; a random 60 %
    (at least 10 frames when the clip has them); or a 60 % run of consecutive frames about the
    centre, shifted at random. As the original, a subset holds one frame fewer than its size, but
    never fewer than two (one frame has no covariance: the original's NaN on two-frame clips)."""
    size = max(int(0.6 * frames), min(frames, 10))
    take = min(max(size - 1, 2), frames)
    choice = int(rng.integers(3))
    if choice == 0 or frames <= 2:
        return np.arange(frames)
    if choice == 1:
        return np.sort(rng.choice(frames, take, replace=False))
    origin = int(np.ceil(frames / 2 - size / 2))
    start = min(max(origin + int(rng.integers(-origin, origin + 1)), 0), frames - take)
    return np.arange(start, start + take)


def covariance_batches(features: list[np.ndarray], labels: np.ndarray, batch_size: int, augment: bool,
                       shuffle: bool, seed: int):
    """Endless (covariances [B, d, d] float32, labels [B] int32): the clips in a new order each
    pass (or listing order), each clip's frames subset at random when ``augment``; batches run on
    across passes, as the original's input queue does."""
    rng = np.random.default_rng(seed)
    pending: list[int] = []
    while True:
        while len(pending) < batch_size:
            pending += list(rng.permutation(len(features)) if shuffle else range(len(features)))
        batch, pending = pending[:batch_size], pending[batch_size:]
        covs = [clip_covariance(features[k][temporal_subset(len(features[k]), rng)] if augment else features[k])
                for k in batch]
        yield np.stack(covs), labels[batch].astype(np.int32)
