"""LFW cosine and MLS accuracy straight from a PFE checkpoint, plus both ROC curves in one PNG.

    python -m pfe.eval_lfw --ckpt_path models/<run> --lfw_dir data/lfw_mtcnncaffe_aligned \
        --pairs_file lfw_pairs.txt --roc roc.png

The "base" rows of the original README's table; om_output_inf gives the om/portable rows.
"""

from __future__ import annotations

import sys

import numpy as np

from common.cli import output_file, parser, positive_int


def extract(base, head, images: np.ndarray, batch_size: int = 128):
    """mu and sigma_sq of standardised images, in inference mode (no flip)."""
    import tensorflow as tf

    mu, sigma_sq = [], []
    for start in range(0, len(images), batch_size):
        out = base(images[start:start + batch_size], training=False)
        mu.append(out["mu"].numpy())
        sigma_sq.append(tf.exp(head(out["conv_final"], training=False)).numpy())
    return np.concatenate(mu), np.concatenate(sigma_sq)


def _store_thresholds(prefix: str, result: dict, lfw_dir: str) -> None:
    """The best thresholds (score units) beside the checkpoint, for `pfe verify`."""
    from common.cli import write_beside_checkpoint
    from pfe.verify import THRESHOLDS

    payload = {"cosine": -result["cosine_threshold"], "MLS": -result["MLS_threshold"], "pairs": result["pairs"],
               "lfw_dir": str(lfw_dir), "checkpoint": prefix}
    path = write_beside_checkpoint(prefix, THRESHOLDS, payload, "thresholds")
    if path:
        print(f"thresholds stored in {path} (pfe verify uses them)")


def main(argv=None) -> dict:
    p = parser("pfe eval_lfw", __doc__.strip().splitlines()[0])
    p.add_argument("--ckpt_path", required=True,
                   help="train run folder or ckpt-N prefix, or an original PFE checkpoint (folder or ckpt-N prefix)")
    p.add_argument("--use_ema", action="store_true",
                   help="original checkpoints: read the ExponentialMovingAverage shadows where present")
    p.add_argument("--lfw_dir", required=True)
    p.add_argument("--pairs_file", required=True)
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--roc", type=output_file, default=None, metavar="PNG", help="draw the cosine and MLS ROC curves here")
    a = p.parse_args(argv)
    from common.metrics import plot_rocs, roc
    from pfe.data import lfw_images, load_standardized
    from pfe.scoring import lfw_scores, report
    from pfe.trainer import restore_pfe

    base, head, _, prefix = restore_pfe(a.ckpt_path, a.use_ema)
    paths, pairs, index = lfw_images(a.lfw_dir, a.pairs_file)
    mu, sigma_sq = extract(base, head, load_standardized(paths), a.batch_size)
    print(f"{prefix}: {len(paths)} images, {len(pairs.issame)} pairs")
    scores = lfw_scores(mu, sigma_sq, index)
    result = {**report(scores, pairs), "images": len(paths), "checkpoint": prefix}
    _store_thresholds(prefix, result, a.lfw_dir)
    if a.roc:
        plot_rocs({k: roc(v, pairs.issame) for k, v in scores.items()}, a.roc, title="PFE on LFW")
        print(f"ROC curves drawn to {a.roc}")
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
