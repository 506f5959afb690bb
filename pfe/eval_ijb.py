"""IJB-A / IJB-B / IJB-C 1:1 template verification: TAR at FAR, as the PFE paper's tables.

    python -m pfe.eval_ijb --protocol ijba --protocol_dir proto/IJB-A --image_dir IJB-A/images \
        --ckpt_path models/<run>
    python -m pfe.eval_ijb --protocol ijbc --protocol_dir IJBC/meta --image_dir IJBC/loose_crop \
        --ckpt_path models/<run>

Each face is embedded once (mu, sigma^2) and cached in an HDF5 file keyed by the checkpoint
(--cache, default beside the checkpoint), so a second run or another protocol reuses it. Templates
are fused three ways: the mean of mu (cosine score), PFE's fusion (mu weighted by 1/sigma^2, cosine
score) and PFE's fusion scored by MLS. TAR at each --fars is the mean +- std over IJB-A's ten
splits (IJB-B/C: one set, std 0). Faces: IJB-A's boxes cropped (crop), found by MTCNN inside them
(align), or PFE's pre-aligned copies (aligned); IJB-B/C: aligned by their five landmarks, or
pre-aligned. A template none of whose faces exists scores below every pair (PFE gives it -9999).
The original printed the mean-pooling std under all three methods; each method gets its own here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, output_file, parser, positive_int, progress

METHODS = {"mean": "mean of mu, cosine", "pfe_fuse": "PFE fusion, cosine", "pfe_fuse_mls": "PFE fusion, MLS"}


def build_parser():
    p = parser("pfe eval_ijb", __doc__.strip().splitlines()[0])
    p.add_argument("--protocol", required=True, choices=["ijba", "ijbb", "ijbc"])
    p.add_argument("--protocol_dir", required=True,
                   help="ijba: the folder with IJB-A_11_sets/; ijbb/ijbc: the folder with <name>_face_tid_mid.txt "
                        "(or its meta/)")
    p.add_argument("--image_dir", required=True, help="ijba: the IJB-A image root FILE is relative to; ijbb/ijbc: loose_crop/")
    add_checkpoint_args(p, "pfe")
    p.add_argument("--faces", default=None, choices=["crop", "align", "landmarks", "aligned"],
                   help="how faces are cut out (default: crop for ijba, landmarks for ijbb/ijbc)")
    p.add_argument("--fars", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2])
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--cache", type=output_file, default=None,
                   help="embedding cache (default <checkpoint folder>/ijb_embeddings_<protocol>_<faces>.h5)")
    return p


def template_features(templates: dict[int, list[str]], row: dict[str, int], mu, sigma_sq, method: str):
    """Per template id: its fused (mu, sigma^2), or None when none of its faces was embedded."""
    from pfe.fusion import aggregate_pfe

    out = {}
    for tid, keys in templates.items():
        idx = [row[k] for k in keys if k in row]
        if not idx:
            out[tid] = None
        elif method == "mean":
            m = mu[idx].mean(axis=0)
            out[tid] = (m / (np.linalg.norm(m) + 1e-12), None)
        else:
            out[tid] = aggregate_pfe(mu[idx], sigma_sq[idx])
    return out


def pair_scores(features: dict, pairs: np.ndarray, method: str, chunk: int = 100_000) -> np.ndarray:
    """Scores of template pairs, in chunks (IJB-C has 15 million); -inf for an empty template."""
    from common.metrics import cosine_pair_score, mls_pair_score

    scores = np.full(len(pairs), -np.inf)
    valid = np.array([features[a] is not None and features[b] is not None for a, b in pairs], bool)
    index = {tid: i for i, tid in enumerate(t for t in features if features[t] is not None)}
    if not index:
        return scores
    mus = np.stack([features[t][0] for t in index])
    sig = np.stack([features[t][1] for t in index]) if method == "pfe_fuse_mls" else None
    which = np.flatnonzero(valid)
    for start in range(0, len(which), chunk):
        sel = which[start:start + chunk]
        a = np.array([index[t] for t in pairs[sel, 0]])
        b = np.array([index[t] for t in pairs[sel, 1]])
        scores[sel] = (mls_pair_score(mus[a], sig[a], mus[b], sig[b]) if method == "pfe_fuse_mls"
                       else cosine_pair_score(mus[a], mus[b]))
    return scores


def embed_faces(base, head, faces: dict, keys: list[str], mode: str, batch_size: int, load_face=None):
    """compute() for the cache: load the faces batch by batch (``load_face(face, mode, detect)``,
    by default pfe.ijb's) and run the network on them."""
    from pfe.data import standardize
    from pfe.embedding import embed

    if load_face is None:
        from pfe.ijb import load_face

    detect = None
    if mode == "align":
        from common.align import Detector

        detect = Detector()
    mu, sigma_sq, fallback = [], [], 0
    for start in progress(range(0, len(keys), batch_size), desc="embed", unit="batch"):
        crops = []
        for k in keys[start:start + batch_size]:
            crop, found = load_face(faces[k], mode, detect)
            crops.append(crop)
            fallback += not found
        m, s = embed(base, head, standardize(np.stack(crops)), batch_size)
        mu.append(m)
        sigma_sq.append(s)
    if fallback:
        print(f"--faces align: MTCNN found no face in {fallback} box(es); those were cropped from the box")
    return keys, {"mu": np.concatenate(mu), "sigma_sq": np.concatenate(sigma_sq)}


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.embedding_cache import cached
    from common.metrics import tar_at_far
    from pfe.ijb import FACE_MODES, read_ijba, read_ijbc

    mode = a.faces or FACE_MODES[a.protocol][0]
    if mode not in FACE_MODES[a.protocol]:
        raise StageError(f"--faces: expected one of {', '.join(FACE_MODES[a.protocol])} for {a.protocol}, found '{mode}'")
    if not all(0 < f < 1 for f in a.fars):
        raise StageError(f"--fars: expected false accept rates between 0 and 1, found {a.fars}")
    protocol_dir, image_dir = Path(a.protocol_dir), Path(a.image_dir)
    if not image_dir.is_dir():
        raise StageError(f"{image_dir}: expected the {a.protocol} image folder, found nothing")
    splits, faces = (read_ijba(protocol_dir, image_dir, mode) if a.protocol == "ijba"
                     else read_ijbc(protocol_dir, image_dir, a.protocol, mode))
    from pfe.models.checkpoints import restore_model

    (base, head), _, prefix = restore_model(a.ckpt_path, a.use_ema)
    checkpoint = str(Path(prefix).resolve()) + (" (EMA)" if a.use_ema else "")
    cache = Path(a.cache or Path(prefix).parent / f"ijb_embeddings_{a.protocol}_{mode}.h5")
    keys, arrays, fresh = cached(cache, checkpoint, sorted(faces),
                                 lambda todo: embed_faces(base, head, faces, todo, mode, a.batch_size))
    row = {k: i for i, k in enumerate(keys)}
    n_templates = sum(len(s.templates) for s in splits)
    n_pairs = sum(len(s.pairs) for s in splits)
    print(f"{a.protocol}: {len(splits)} split(s), {n_templates} templates, {n_pairs} pairs, {len(faces)} faces "
          f"({fresh} embedded now, the rest from {cache})")
    missing = sum(s.missing for s in splits)
    if missing:
        print(f"{missing} face(s) of the protocol have no aligned image in {image_dir} and are left out of their templates")
    fars_text = "  ".join(f"TAR@FAR={f:g}".rjust(19) for f in a.fars)
    print(f"{'method':<22}{fars_text}")
    result = {"protocol": a.protocol, "splits": len(splits), "templates": n_templates, "pairs": n_pairs,
              "faces": len(faces), "embedded": fresh, "fars": list(a.fars), "methods": {}}
    for method, title in METHODS.items():
        tars, real = [], []
        for s in splits:
            feats = template_features(s.templates, row, arrays["mu"], arrays["sigma_sq"], method)
            t, r = tar_at_far(pair_scores(feats, s.pairs, method), s.issame, a.fars)
            tars.append(t)
            real.append(r)
        tars = np.array(tars)
        mean, std = tars.mean(axis=0), tars.std(axis=0)
        print(f"{title:<22}" + "  ".join(f"{m:.4f} +- {d:.4f}".rjust(19) for m, d in zip(mean, std, strict=True)))
        result["methods"][method] = {"TAR": mean.tolist(), "std": std.tolist(),
                                     "FAR": np.mean(real, axis=0).tolist()}
    empty = sum(1 for s in splits for keys_ in s.templates.values() if not any(k in row for k in keys_))
    if empty:
        print(f"{empty} template(s) without any face score below every pair")
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
