"""Verification accuracy of a checkpoint on LFW, CFP and AgeDB .bin files (10-fold protocol), and ROCs.

    python -m mobilefacenet.inference --ckpt_path models/<run>/best \
        --eval_datasets lfw.bin cfp_ff.bin cfp_fp.bin agedb_30.bin

Prints one line per set, `<name>: accuracy X ± Y` (name: the file's stem; std over the ten folds),
with the mean best threshold (squared L2 of L2-normalised embeddings,
thresholds 0..4 step 0.01, first maximum per fold), single-crop like the repos; --flip adds
the flipped image's embedding (insightface's Accuracy-Flip); --bgr feeds BGR as the Ascend
evaluation does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_checkpoint_args, output_file, parser, positive_int


def main(argv=None) -> dict:
    p = parser("mobilefacenet inference", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "mobilefacenet")
    p.add_argument("--eval_datasets", nargs="+", required=True, help="verification .bin files")
    p.add_argument("--eval_batch_size", type=positive_int, default=100)
    p.add_argument("--flip", action="store_true")
    p.add_argument("--bgr", action="store_true", help="decode BGR (the Ascend port's cv2 quirk)")
    p.add_argument("--roc", type=output_file, default=None, metavar="PNG", help="draw ROC curves of every dataset here")
    a = p.parse_args(argv)
    from common.files import store_thresholds
    from common.metrics import roc
    from common.plots import plot_rocs
    from mobilefacenet.embedding import embed, load_bin, verify
    from mobilefacenet.models.checkpoints import restore_model

    model, _, prefix = restore_model(a.ckpt_path, a.use_ema)
    print(f"restored {prefix}")
    curves, results = {}, {}
    for path in a.eval_datasets:
        images, issame = load_bin(path, bgr=a.bgr)
        emb = embed(model, images, a.eval_batch_size, a.flip)
        result = verify(emb, issame)
        name = Path(path).stem
        print(f"{name}: accuracy {result.accuracy:.4f} ± {result.std:.4f}  ({len(issame)} pairs, threshold "
              f"{result.threshold:.2f}, folds {' '.join(f'{v:.3f}' for v in result.fold_accuracies)})")
        results[name] = result
        if len(a.eval_datasets) == 1 or name == "lfw":
            store_thresholds(prefix, {"squared_distance": float(result.threshold)}, dataset=str(path))
        curves[name] = roc(-((emb[0::2] - emb[1::2]) ** 2).sum(1), issame)
    if a.roc:
        plot_rocs(curves, a.roc, title="MobileFaceNet verification ROC")
        print(f"ROC drawn to {a.roc}")
    return results


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
