"""YouTube Faces: 5,000 video pairs, 10-fold accuracy of each way to fuse a video's faces.

    pfe eval_ytf --ytf_dir YouTubeFaces --splits YouTubeFaces/splits.txt --ckpt_path models/<run>

Each video's frames (every --every-th, at most --max_frames of them) are cut out, embedded once
(mu, sigma^2) and cached in an HDF5 file keyed by the checkpoint (--cache), and each video is
one template fused three ways, as in `eval_ijb`: the mean of mu (cosine score), PFE's fusion (mu
weighted by 1/sigma^2, cosine score) and PFE's fusion scored by MLS. Accuracy is the mean +- std
over the 10 splits, each split's threshold chosen on the other nine (PFE's LFW rule). Faces:
frame_images_DB's labelled boxes searched by MTCNN and aligned (align; a box without a face found
is cropped), or cropped (crop); or aligned_images_DB's frames centre-cropped (aligned: they are
not re-aligned; --aligned_crop says how much of the height the face takes).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import (
    StageError,
    add_checkpoint_args,
    output_file,
    parser,
    positive_float,
    positive_int,
)
from pfe.eval_ijb import METHODS


def build_parser():
    p = parser("pfe eval_ytf", __doc__.strip().splitlines()[0])
    p.add_argument("--ytf_dir", required=True, help="the folder with frame_images_DB/ and/or aligned_images_DB/")
    p.add_argument("--splits", required=True, help="YouTube Faces' splits.txt")
    add_checkpoint_args(p, "pfe")
    p.add_argument("--faces", default=None, choices=["align", "crop", "aligned"],
                   help="align/crop: frame_images_DB and its boxes; aligned: aligned_images_DB "
                        "(default: align when frame_images_DB is there, else aligned)")
    p.add_argument("--every", type=positive_int, default=1, metavar="K", help="use every K-th frame of a video")
    p.add_argument("--max_frames", type=positive_int, default=None, metavar="N",
                   help="at most N frames per video, spread evenly (default: all)")
    p.add_argument("--aligned_crop", type=positive_float, default=0.6,
                   help="aligned: the face's side as a share of the image height (the synthetic stand-in's; "
                        "measure it on your copy)")
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--cache", type=output_file, default=None,
                   help="embedding cache (default <checkpoint folder>/ytf_embeddings_<faces>.h5)")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.embedding_cache import cached
    from common.metrics import verify_pfe
    from pfe.eval_ijb import embed_faces, pair_scores, template_features
    from pfe.ytf import load_ytf_face, read_splits, video_faces

    ytf_dir, splits_file = Path(a.ytf_dir), Path(a.splits)
    if not ytf_dir.is_dir():
        raise StageError(f"{ytf_dir}: expected the YouTube Faces folder, found {'a file' if ytf_dir.exists() else 'nothing'}")
    mode = a.faces or ("align" if (ytf_dir / "frame_images_DB").is_dir() else "aligned")
    db = "aligned_images_DB" if mode == "aligned" else "frame_images_DB"
    pairs = read_splits(splits_file)
    if len(np.unique(pairs.splits)) < 2:
        raise StageError(f"{splits_file}: expected pairs in at least 2 splits (10 in YouTube Faces), found 1")
    videos, faces = video_faces(ytf_dir, db, pairs, splits_file, a.every, a.max_frames)
    from pfe.models.checkpoints import restore_model

    (base, head), _, prefix = restore_model(a.ckpt_path, a.use_ema)
    checkpoint = str(Path(prefix).resolve()) + (" (EMA)" if a.use_ema else "")
    cache = Path(a.cache or Path(prefix).parent / f"ytf_embeddings_{mode}.h5")
    suffix = f"|{mode}" + (f"{a.aligned_crop:g}" if mode == "aligned" else "")
    keyed = {k + suffix: f for k, f in faces.items()}
    def load(face, mode, detect):
        return load_ytf_face(face, mode, detect, a.aligned_crop)

    keys, arrays, fresh = cached(cache, checkpoint, sorted(keyed),
                                 lambda todo: embed_faces(base, head, keyed, todo, mode, a.batch_size, load))
    row = {k: i for i, k in enumerate(keys)}
    names = sorted(videos)
    templates = {i: [k + suffix for k in videos[n]] for i, n in enumerate(names)}
    index = {n: i for i, n in enumerate(names)}
    pair_ids = np.array([[index[x], index[y]] for x, y in pairs.videos], np.int64)
    print(f"YouTube Faces ({db}, faces {mode}): {len(pairs.issame)} pairs in {len(np.unique(pairs.splits))} splits, "
          f"{len(names)} videos, {len(faces)} frames ({fresh} embedded now, the rest from {cache})")
    print(f"{'method':<22}{'accuracy':>18}")
    result = {"db": db, "faces": mode, "pairs": len(pairs.issame), "videos": len(names), "frames": len(faces),
              "embedded": fresh, "methods": {}}
    for method, title in METHODS.items():
        feats = template_features(templates, row, arrays["mu"], arrays["sigma_sq"], method)
        scores = pair_scores(feats, pair_ids, method)
        res = verify_pfe(scores, pairs.issame, pairs.splits)
        print(f"{title:<22}{res.accuracy:>10.4f} +- {res.std:.4f}")
        result["methods"][method] = {"accuracy": res.accuracy, "std": res.std}
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
