"""Verification protocols, MLS, pairs file and classification metrics."""

import numpy as np
import pytest

from common import lfw_pairs, metrics, plots


def test_insightface_protocol_on_constructed_distances():
    # 20 pairs, 10 folds of 2 (one same, one different). Same pairs at distance 1.0, different
    # pairs at 3.0, except fold 9 whose different pair sits at 0.5 (an error no threshold fixes).
    e1 = np.zeros((20, 2))
    e2 = np.zeros((20, 2))
    issame = np.tile([True, False], 10)
    dist = np.where(issame, 1.0, 3.0)
    dist[19] = 0.5
    e2[:, 0] = np.sqrt(dist)
    r = metrics.verify_insightface(e1, e2, issame, nrof_folds=10)
    # Every training set holds 9 same pairs at 1.0 and 9 different pairs mostly at 3.0: the first
    # best threshold on the 0.01 grid is 1.01 (dist < t). Folds 0-8 score 2/2, fold 9 scores 1/2.
    assert r.thresholds[0] == pytest.approx(1.01)
    assert r.accuracy == pytest.approx((9 * 1.0 + 0.5) / 10)
    assert r.fold_accuracies.tolist() == [1.0] * 9 + [0.5]


def test_pfe_protocol_averages_tied_thresholds():
    # Scores: genuine pairs 0.9, 0.8; impostors 0.1, 0.2 per fold; 2 folds. Candidates are the
    # genuine training scores (0.8, 0.9): 0.8 gives accuracy 1, 0.9 gives 3/4 -> threshold 0.8.
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.9, 0.8, 0.1, 0.2])
    issame = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    r = metrics.verify_pfe(scores, issame, folds=np.repeat([0, 1], 4))
    assert r.thresholds.tolist() == [0.8, 0.8] and r.accuracy == 1.0
    # Genuine 0.9, 0.5 and impostors 0.6, 0.1: both candidates score 3/4, their mean is used.
    scores2 = np.array([0.9, 0.5, 0.6, 0.1] * 2)
    r2 = metrics.verify_pfe(scores2, issame, folds=np.repeat([0, 1], 4))
    assert r2.thresholds[0] == pytest.approx(0.7)


def test_mls_score_formula():
    mu1, mu2 = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    s1, s2 = np.array([[0.5, 1.0]]), np.array([[0.5, 1.0]])
    expected = -((1 / 1.0 + np.log(1.0)) + (1 / 2.0 + np.log(2.0)))
    assert metrics.mls_pair_score(mu1, s1, mu2, s2)[0] == pytest.approx(expected)
    assert metrics.cosine_pair_score(mu1, mu2)[0] == pytest.approx(-2.0)


def test_roc_and_tar_at_far(tmp_path):
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    issame = np.array([1, 1, 0, 1, 0, 0], bool)
    r = metrics.roc(scores, issame)
    assert r.auc == pytest.approx(8 / 9)
    assert r.tar_at_far(0.0) == pytest.approx(2 / 3)
    png = plots.plot_rocs({"a": r}, tmp_path / "roc.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pairs_reader(tmp_path):
    text = "2\t1\nAlice\t1\t2\nAlice\t1\tBob\t3\nCara\t2\t4\nCara\t1\tDan\t1\n"
    (tmp_path / "pairs.txt").write_text(text)
    p = lfw_pairs.read_pairs(tmp_path / "pairs.txt")
    assert p.pairs[1] == ("Alice", 1, "Bob", 3)
    assert p.issame.tolist() == [True, False, True, False]
    assert p.folds.tolist() == [0, 0, 1, 1]
    assert str(p.image_paths("/r")[1][1]) == "/r/Bob/Bob_0003.jpg"
    (tmp_path / "bad.txt").write_text("2\t1\nAlice\t1\n")
    with pytest.raises(Exception, match="expected 4 pair lines"):
        lfw_pairs.read_pairs(tmp_path / "bad.txt")


def test_classification_metrics():
    labels = np.array([0, 1, 2, 2])
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    assert metrics.topk_accuracy(labels, scores, 1) == 0.5
    assert metrics.topk_accuracy(labels, scores, 2) == 0.75
    cm = metrics.confusion(labels, scores.argmax(1), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 1]]
    np.testing.assert_allclose(metrics.per_class_accuracy(cm), [1.0, 0.0, 0.5])


def test_tar_at_far_matches_scikit_learns_roc_on_a_hand_made_score_set():
    """PFE's rule (threshold = k-th highest impostor score, k = round(n x FAR)) is a point of the ROC."""
    from sklearn.metrics import roc_curve

    from common.metrics import tar_at_far

    rng = np.random.default_rng(1)
    genuine, impostor = rng.normal(2.0, 1.0, 300), rng.normal(0.0, 1.0, 2000)
    scores = np.concatenate([genuine, impostor])
    issame = np.concatenate([np.ones(300, bool), np.zeros(2000, bool)])
    fars = [1e-3, 1e-2, 1e-1]
    tar, real = tar_at_far(scores, issame, fars)
    fpr, tpr, _ = roc_curve(issame, scores, drop_intermediate=False)
    for far, t, r in zip(fars, tar, real, strict=True):
        k = round(2000 * far)
        assert r == k / 2000
        # the ROC point where FAR first reaches k/n (genuine pairs scoring below the k-th impostor
        # but above the next one would raise TAR at the same FAR; PFE's threshold does not take them)
        assert t == tpr[np.flatnonzero(np.isclose(fpr, k / 2000))].min()
    # FAR below one impostor: the threshold sits just above the highest impostor
    tar0, real0 = tar_at_far(scores, issame, [1e-5])
    assert real0[0] == 0 and tar0[0] == np.mean(genuine > impostor.max())
