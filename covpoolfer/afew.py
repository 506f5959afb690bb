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
