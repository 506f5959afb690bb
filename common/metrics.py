"""Classification and face-verification metrics shared by the four pipelines.

Two published LFW 10-fold protocols are kept apart because their numbers differ slightly:
* ``verify_insightface``: squared L2 distance of normalised embeddings, thresholds
  ``arange(0, 4, 0.01)``, 10 unshuffled folds, first best threshold (MobileFaceNet, facenet).
* ``verify_pfe``: similarity scores, candidate thresholds = genuine training scores, the mean of
  all thresholds tying for best accuracy, ``score >= t`` (PFE, its Ascend port).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm
from sklearn.model_selection import KFold

from common.cli import StageError

# ---------------------------------------------------------------------------- classification


def accuracy(labels, predictions) -> float:
    return float(skm.accuracy_score(np.asarray(labels), np.asarray(predictions)))


def topk_accuracy(labels, scores, k: int = 1) -> float:
    """Fraction of samples whose label is among the k highest scores."""
    scores = np.asarray(scores)
    return float(skm.top_k_accuracy_score(np.asarray(labels), scores, k=k,
                                          labels=np.arange(scores.shape[1])))


def confusion(labels, predictions, num_classes: int) -> np.ndarray:
    """Confusion matrix, rows = true class, columns = predicted class."""
    return skm.confusion_matrix(labels, predictions, labels=np.arange(num_classes))


def per_class_accuracy(confusion_matrix: np.ndarray) -> np.ndarray:
    """Recall per class (NaN for a class with no samples)."""
    cm = np.asarray(confusion_matrix, dtype=np.float64)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / totals, np.nan)


def uf1_uar(labels, predictions) -> tuple[float, float]:
    """Unweighted F1 and unweighted average recall (MEGC 2019): per class F1 = 2TP/(2TP+FP+FN) and
    recall = TP/(TP+FN) from the counts pooled over all folds, averaged over the classes that occur
    in ``labels`` (a class a dataset lacks does not count as a zero)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    classes = np.unique(labels)
    f1, recall = [], []
    for c in classes:
        tp = np.sum((labels == c) & (predictions == c))
        fp = np.sum((labels != c) & (predictions == c))
        fn = np.sum((labels == c) & (predictions != c))
        f1.append(2 * tp / (2 * tp + fp + fn))
        recall.append(tp / (tp + fn))
    return float(np.mean(f1)), float(np.mean(recall))


def format_counts(rows: list[str], columns: list[str], counts, width: int = 6) -> str:
    """Plain-text counts, one line per row name and one column per column name (counts[column][row]),
    as the data-preparing stages print them per class and split."""
    name = max(len(r) for r in rows)
    lines = [f"{'class'.ljust(name)} " + " ".join(f"{c:>{width}}" for c in columns)]
    lines += [f"{r.ljust(name)} " + " ".join(f"{counts[c][r]:>{width}}" for c in columns) for r in rows]
    return "\n".join(lines)


def format_confusion(confusion_matrix: np.ndarray, class_names: list[str]) -> str:
    """A plain-text confusion matrix (rows true, columns predicted) with per-class accuracy."""
    cm = np.asarray(confusion_matrix)
    names = [n[:10] for n in class_names]
    width = max(6, *(len(n) for n in names))
    lines = [" " * width + " " + " ".join(f"{n:>{width}}" for n in names) + f" {'acc':>6}"]
    for name, row, acc in zip(names, cm, per_class_accuracy(cm), strict=True):
        acc_text = "   n/a" if np.isnan(acc) else f"{acc:6.3f}"
        lines.append(f"{name:>{width}} " + " ".join(f"{int(v):>{width}}" for v in row) + f" {acc_text}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- verification


@dataclass
class VerificationResult:
    accuracy: float            # mean of the fold accuracies
    std: float
    thresholds: np.ndarray     # one per fold, in the protocol's own units
    fold_accuracies: np.ndarray

    @property
    def threshold(self) -> float:
        return float(np.mean(self.thresholds))


def squared_l2(emb1, emb2) -> np.ndarray:
    return np.sum(np.square(np.asarray(emb1, np.float64) - np.asarray(emb2, np.float64)), axis=1)


def verify_insightface(emb1, emb2, issame, nrof_folds: int = 10,
                       thresholds=None) -> VerificationResult:
    """insightface/facenet ``calculate_roc`` accuracy: ``dist < t``, t on a fixed grid."""
    thresholds = np.arange(0, 4, 0.01) if thresholds is None else np.asarray(thresholds)
    dist = squared_l2(emb1, emb2)
    issame = np.asarray(issame, dtype=bool)
    _check_pairs(dist, issame)
    best, accs = [], []
    for train, test in KFold(n_splits=_fold_count(len(dist), nrof_folds), shuffle=False).split(dist):
        train_acc = [np.mean((dist[train] < t) == issame[train]) for t in thresholds]
        t = thresholds[int(np.argmax(train_acc))]  # first maximum wins, as in the original
        best.append(t)
        accs.append(np.mean((dist[test] < t) == issame[test]))
    accs = np.array(accs)
    return VerificationResult(float(accs.mean()), float(accs.std()), np.array(best), accs)


def _best_threshold_pfe(scores: np.ndarray, labels: np.ndarray) -> float:
    """PFE: candidates are the genuine scores; ties for the best accuracy are averaged."""
    candidates = np.sort(scores[labels])
    if candidates.size == 0:
        candidates = np.sort(scores)
    acc = np.array([np.mean((scores >= t) == labels) for t in candidates])
    return float(np.mean(candidates[acc == acc.max()]))


def verify_pfe(scores, issame, folds=None, nrof_folds: int = 10) -> VerificationResult:
    """PFE ``LFWTest`` accuracy on similarity scores (higher = more similar).

    ``folds`` gives the fold index of every pair (the official pairs-file folds); without it
    the pairs are cut into ``nrof_folds`` contiguous blocks.
    """
    scores = np.asarray(scores, np.float64)
    issame = np.asarray(issame, dtype=bool)
    _check_pairs(scores, issame)
    if folds is None:
        folds = np.zeros(len(scores), int)
        for k, (_, test) in enumerate(KFold(n_splits=_fold_count(len(scores), nrof_folds), shuffle=False).split(scores)):
            folds[test] = k
    folds = np.asarray(folds)
    best, accs = [], []
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        t = _best_threshold_pfe(scores[train], issame[train])
        best.append(t)
        accs.append(np.mean((scores[test] >= t) == issame[test]))
    accs = np.array(accs)
    return VerificationResult(float(accs.mean()), float(accs.std()), np.array(best), accs)


def _fold_count(pairs: int, folds: int) -> int:
    """Folds for ``pairs`` pairs: as asked, or one pair per fold for a set smaller than that."""
    if pairs < 2:
        raise StageError(f"verification: expected at least 2 pairs for cross-validation, found {pairs}")
    if pairs < folds:
        print(f"warning: verification: {pairs} pairs, fewer than {folds} folds; using {pairs} folds", file=sys.stderr)
        return pairs
    return folds


def _check_pairs(scores: np.ndarray, issame: np.ndarray) -> None:
    if len(scores) != len(issame):
        raise StageError(f"verification: expected one label per pair, found {len(scores)} pairs "
                         f"and {len(issame)} labels")
    if not np.all(np.isfinite(scores)):
        raise StageError(f"verification: expected finite scores, found {int((~np.isfinite(scores)).sum())} "
                         f"NaN/inf values")


def cosine_pair_score(mu1, mu2) -> np.ndarray:
    """PFE's "Euclidean (cosine)" score: -||mu1 - mu2||^2 (mu L2-normalised)."""
    return -squared_l2(mu1, mu2)


def mls_pair_score(mu1, sigma_sq1, mu2, sigma_sq2) -> np.ndarray:
    """Mutual likelihood score as PFE's code computes it: -sum(d^2/s + log s), s = s1 + s2."""
    s = np.asarray(sigma_sq1, np.float64) + np.asarray(sigma_sq2, np.float64)
    d2 = np.square(np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64))
    return -np.sum(d2 / s + np.log(s), axis=1)


def tar_at_far(scores, issame, fars) -> tuple[np.ndarray, np.ndarray]:
    """(TAR, real FAR) at each target FAR, as PFE's IJB evaluation sets the threshold: the k-th
    highest impostor score with k = round(impostors x FAR) (just above the highest when k = 0),
    a pair accepted when its score is at or above it."""
    scores, issame = np.asarray(scores, np.float64), np.asarray(issame, bool)
    impostor = np.sort(scores[~issame])[::-1]
    if not len(impostor) or not issame.any():
        raise StageError(f"TAR@FAR: expected genuine and impostor pairs, found {int(issame.sum())} and {len(impostor)}")
    tars, real = [], []
    for far in fars:
        k = int(np.round(len(impostor) * far))
        threshold = impostor[0] + 1e-8 if k == 0 else impostor[k - 1]
        tars.append(np.mean(scores[issame] >= threshold))
        real.append(np.mean(impostor >= threshold))
    return np.array(tars), np.array(real)


@dataclass
class RocResult:
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float

    def tar_at_far(self, far: float) -> float:
        """True-accept rate at the largest false-accept rate not above ``far``."""
        ok = self.fpr <= far
        return float(self.tpr[ok].max()) if ok.any() else 0.0


def roc(scores, issame) -> RocResult:
    """ROC of similarity scores (higher = same) with scikit-learn."""
    fpr, tpr, _ = skm.roc_curve(np.asarray(issame, bool), np.asarray(scores, np.float64))
    return RocResult(fpr, tpr, float(skm.auc(fpr, tpr)))
