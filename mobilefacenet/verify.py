"""Are these two the same person? MobileFaceNet's cosine similarity between two photos.

    mobilefacenet verify --ckpt_path output/ckpt/<run>/best a.jpg b.jpg

Each photo's largest face is found by MTCNN and aligned to the 112x112 arcface template
(common.align), embedded and L2-normalised. Prints the cosine similarity and the squared
distance, and same/different at --threshold (a squared distance, insightface's convention), or
the one `inference` stored beside the checkpoint (`lfw_thresholds.json`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, parser, positive_int
from common.files import THRESHOLDS_FILE, stored_threshold


def embed_photos(model, photos: list, detect, echo=print, skipped: list | None = None) -> tuple[np.ndarray, list]:
    """Unit embeddings of the largest face of each photo, and the photos that had one
    (``skipped``: see common.align.largest_faces)."""
    from common.align import largest_faces
    from mobilefacenet.data import normalize
    from mobilefacenet.embedding import embed

    crops, used = largest_faces(photos, detect, "arcface", echo, skipped)
    if not crops:
        return np.zeros((0, 0), np.float32), used
    return embed(model, normalize(np.stack(crops))), used


def main(argv=None) -> dict:
    p = parser("mobilefacenet verify", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "mobilefacenet")
    p.add_argument("a", help="a photo")
    p.add_argument("b", help="a photo")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"squared distance below which the faces are the same person (default: the one in {THRESHOLDS_FILE} beside the checkpoint)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    a = p.parse_args(argv)
    from common.align import Detector
    from mobilefacenet.models.checkpoints import restore_model

    for side in (a.a, a.b):
        if not Path(side).is_file():
            raise StageError(f"{side}: expected a photo, found {'a folder' if Path(side).is_dir() else 'nothing'}")
    model, _, prefix = restore_model(a.ckpt_path, a.use_ema)
    emb, used = embed_photos(model, [a.a, a.b], Detector(a.max_side))
    if len(used) < 2:
        missing = [s for s in (a.a, a.b) if s not in used]
        raise StageError(f"{missing[0]}: expected a face, found none")
    distance = float(np.sum((emb[0] - emb[1]) ** 2))
    cosine = 1.0 - distance / 2.0
    threshold, source = (a.threshold, "--threshold") if a.threshold is not None else stored_threshold(prefix, "squared_distance")
    print(f"cosine similarity {cosine:.4f}  squared distance {distance:.4f}")
    same = None if threshold is None else distance < threshold
    if same is None:
        print(f"no threshold: pass --threshold or run inference first (it writes {source})")
    else:
        print(f"{'same person' if same else 'different people'} (distance {distance:.3f} "
              f"{'<' if same else '>='} threshold {threshold:.3f} from {source})")
    return {"cosine": cosine, "distance": distance, "threshold": threshold, "same": same}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
