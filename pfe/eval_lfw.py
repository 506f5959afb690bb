"""LFW cosine and MLS accuracy straight from a PFE checkpoint, plus both ROC curves in one PNG.

    python -m pfe.eval_lfw --ckpt_path models/<run> --lfw_dir data/lfw_mtcnncaffe_aligned \
        --pairs_file lfw_pairs.txt --roc roc.png

The "base" rows of the original README's table; om_output_inf gives the om/portable rows.
"""

from __future__ import annotations

import sys

from common.cli import add_checkpoint_args, output_file, parser, positive_int


def main(argv=None) -> dict:
    p = parser("pfe eval_lfw", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "pfe")
    p.add_argument("--lfw_dir", required=True)
    p.add_argument("--pairs_file", required=True)
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--roc", type=output_file, default=None, metavar="PNG", help="draw the cosine and MLS ROC curves here")
    a = p.parse_args(argv)
    from common.files import store_thresholds
    from common.metrics import roc
    from common.plots import plot_rocs
    from pfe.data import lfw_images, load_standardized
    from pfe.embedding import embed
    from pfe.models.checkpoints import restore_model
    from pfe.scoring import lfw_scores, report

    (base, head), _, prefix = restore_model(a.ckpt_path, a.use_ema)
    paths, pairs, index = lfw_images(a.lfw_dir, a.pairs_file)
    mu, sigma_sq = embed(base, head, load_standardized(paths), a.batch_size)
    print(f"{prefix}: {len(paths)} images, {len(pairs.issame)} pairs")
    scores = lfw_scores(mu, sigma_sq, index)
    result = {**report(scores, pairs), "images": len(paths), "checkpoint": prefix}
    # score units (higher = more alike), for `pfe verify`
    stored = store_thresholds(prefix, {"cosine": -result["cosine_threshold"], "MLS": -result["MLS_threshold"]},
                              pairs=result["pairs"], lfw_dir=str(a.lfw_dir))
    if stored:
        print(f"thresholds stored in {stored} (pfe verify uses them)")
    if a.roc:
        plot_rocs({k: roc(v, pairs.issame) for k, v in scores.items()}, a.roc, title="PFE on LFW")
        print(f"ROC curves drawn to {a.roc}")
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
