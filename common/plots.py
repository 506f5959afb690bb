"""The pictures the stages draw (confusion matrices, ROC curves), each one PNG written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.files import atomic_path
from common.metrics import RocResult


def _figure(size):
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, dpi=120)


def _save(fig, path: str | os.PathLike) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def plot_confusion(confusion_matrix: np.ndarray, class_names: list[str], path: str | os.PathLike,
                   title: str = "confusion matrix") -> Path:
    """The counts drawn by scikit-learn's ConfusionMatrixDisplay."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = _figure((1.0 + 0.8 * len(class_names), 0.6 + 0.8 * len(class_names)))
    ConfusionMatrixDisplay(np.asarray(confusion_matrix), display_labels=class_names).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45)
    ax.set_title(title)
    return _save(fig, path)


def plot_rocs(curves: dict[str, RocResult], path: str | os.PathLike, title: str = "ROC") -> Path:
    """Several ROC curves on a log false-accept axis."""
    fig, ax = _figure((5, 4.5))
    for name, r in curves.items():
        ok = r.fpr > 0
        ax.plot(r.fpr[ok], r.tpr[ok], label=f"{name} (AUC {r.auc:.4f})")
    ax.set_xscale("log")
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_face_rows(rows: list[tuple[str, np.ndarray, list[str]]], path: str | os.PathLike, title: str = "",
                   per_row: int = 10) -> Path:
    """Rows of face crops, each row a title, its crops [n, h, w, 3] and a caption per crop; a row
    longer than ``per_row`` shows ``per_row`` crops spread evenly over it (first and last kept)."""
    fig, axes = _figure((1.1 * per_row, 1.5 * len(rows) + 0.4))
    fig.clf()
    grid = fig.subplots(len(rows), per_row, squeeze=False)
    for r, (name, crops, captions) in enumerate(rows):
        picked = np.unique(np.round(np.linspace(0, len(crops) - 1, min(per_row, len(crops)))).astype(int))
        for c, ax in enumerate(grid[r]):
            ax.axis("off")
            if c < len(picked):
                ax.imshow(crops[picked[c]])
                ax.set_title(captions[picked[c]], fontsize=7)
        grid[r][0].text(-0.1, 0.5, name, transform=grid[r][0].transAxes, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)
