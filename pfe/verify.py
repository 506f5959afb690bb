"""Are these two the same person? PFE's cosine and MLS scores and each face's uncertainty.

    pfe verify --ckpt_path models/<run> a.jpg b.jpg
    pfe verify --ckpt_path models/<run> photos_of_a/ photos_of_b/

Each photo's largest face is found by MTCNN and aligned to the 96x112 PFE template
(common.align). A folder is one template: its faces are fused with PFE's rule (pfe.fusion: mu
weighted by 1/sigma^2, the smallest sigma^2). Prints the cosine score (-||mu1 - mu2||^2), the
mutual likelihood score, each side's mean sigma^2 (a blurred or occluded face shows more
uncertainty) and same/different at the MLS threshold: --threshold, or the one `eval_lfw` stored
with the run (`lfw_thresholds.json`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, parser, positive_int
from common.files import THRESHOLDS_FILE, stored_threshold


def build_parser():
    p = parser("pfe verify", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "pfe")
    p.add_argument("a", help="a photo, or a folder of photos of one person")
    p.add_argument("b", help="a photo, or a folder of photos of one person")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"MLS score at or above which the faces are the same person (default: {THRESHOLDS_FILE} "
                        "written by eval_lfw beside the checkpoint)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    return p


def faces_of(side: str, detect) -> tuple[np.ndarray, list[str]]:
    """Aligned 112x96 crops of the largest face of each photo of one side, and the photos used."""
    from common.align import largest_faces, photos

    crops, used = largest_faces(photos(Path(side)) if Path(side).exists() else [], detect, "pfe")
    if not crops:
        raise StageError(f"{side}: expected a photo with a face, found {'none' if Path(side).exists() else 'nothing'}")
    return np.stack(crops), [str(p) for p in used]


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.align import Detector
    from common.metrics import cosine_pair_score, mls_pair_score
    from pfe.data import standardize
    from pfe.embedding import embed
    from pfe.fusion import aggregate_pfe
    from pfe.models.checkpoints import restore_model

    (base, head), _, prefix = restore_model(a.ckpt_path, a.use_ema)
    detect = Detector(a.max_side)
    sides = {}
    for name, side in (("a", a.a), ("b", a.b)):
        crops, used = faces_of(side, detect)
        mu, sigma_sq = embed(base, head, standardize(crops))
        fused = aggregate_pfe(mu, sigma_sq) if len(mu) > 1 else (mu[0], sigma_sq[0])
        sides[name] = {"photos": used, "mu": fused[0], "sigma_sq": fused[1],
                       "mean_sigma_sq": [float(s.mean()) for s in sigma_sq]}
    cosine = float(cosine_pair_score(sides["a"]["mu"][None], sides["b"]["mu"][None])[0])
    mls = float(mls_pair_score(sides["a"]["mu"][None], sides["a"]["sigma_sq"][None],
                               sides["b"]["mu"][None], sides["b"]["sigma_sq"][None])[0])
    threshold, source = a.threshold, "--threshold"
    stored, where = stored_threshold(prefix, "MLS")
    if threshold is None and stored is not None:
        threshold, source = stored, str(where)
    for name in ("a", "b"):
        s = sides[name]
        print(f"{name}: {len(s['photos'])} face(s), mean sigma^2 {', '.join(f'{v:.4g}' for v in s['mean_sigma_sq'])}"
              + (" (fused)" if len(s["photos"]) > 1 else ""))
    print(f"cosine score {cosine:.4f}  MLS score {mls:.2f}")
    same = None if threshold is None else mls >= threshold
    if same is None:
        print(f"no threshold: pass --threshold or run eval_lfw first (it writes {where})")
    else:
        print(f"{'same person' if same else 'different people'} (MLS {mls:.2f} {'>=' if same else '<'} "
              f"threshold {threshold:.2f} from {source})")
    return {"cosine": cosine, "MLS": mls, "threshold": threshold, "same": same,
            "mean_sigma_sq": {k: sides[k]["mean_sigma_sq"] for k in sides},
            "photos": {k: sides[k]["photos"] for k in sides}}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
