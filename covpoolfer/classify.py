"""The paper's protocol: a linear SVM on L2-normalised network features (SFEW: fc_2 BN output).

    python -m covpoolfer.classify --ckpt_path models/20260101-120000 --data_dir data/SFEW_100

Features of Train and val are extracted once and cached in <ckpt run>/features.h5; the SVM is
scikit-learn's SVC(kernel='linear', probability=True) as in classify_sfew.py. --nrof_total
counts images whose face was not detected as chance (1/7), as the paper's SFEW number does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, parser, positive_int


def extract(ckpt_path: str, roots: dict[str, Path], cache: Path, batch_size: int, use_ema: bool = False) -> dict:
    """{split: (features, labels, paths)} from the cache when it was made by the same checkpoint
    from the same images, else from the network."""
    import h5py

    from common.tf.tf1_import import find_checkpoint
    from covpoolfer.data import list_dataset

    listed = {s: list_dataset(r) for s, r in roots.items()}
    source = str(Path(find_checkpoint(ckpt_path)).resolve()) + (" (EMA)" if use_ema else "")
    if cache.is_file():
        with h5py.File(cache, "r") as f:
            if f.attrs.get("checkpoint") == source and \
                    all(s in f and [p.decode() for p in f[s]["paths"][:]] == listed[s][0] for s in roots):
                return {s: (f[s]["features"][:], f[s]["labels"][:], listed[s][0]) for s in roots}
    from common.files import atomic_path
    from covpoolfer.data import load_images
    from covpoolfer.models.checkpoints import restore_model
    from covpoolfer.trainer import predict

    model, config, _ = restore_model(ckpt_path, use_ema)
    out = {}
    for split, (paths, labels, _) in listed.items():
        feats = predict(model, load_images(paths, config["image_size"]), batch_size)["features"]
        out[split] = (feats, labels, paths)
    with atomic_path(cache, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["checkpoint"] = source
        for split, (feats, labels, paths) in out.items():
            g = f.create_group(split)
            g["features"], g["labels"] = feats, labels
            g["paths"] = np.array([p.encode() for p in paths])
    return out


def main(argv=None) -> dict:
    p = parser("covpoolfer classify", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "covpoolfer")
    p.add_argument("--data_dir", required=True, help="SFEW_100-style folder with Train/ and val/")
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--nrof_total", type=int, default=None,
                   help="images in the official split (SFEW val: 436); the rest count as chance")
    a = p.parse_args(argv)
    if a.nrof_total is not None and a.nrof_total < 1:
        raise StageError(f"--nrof_total: expected a whole number of at least 1, found {a.nrof_total}")
    from sklearn.preprocessing import normalize
    from sklearn.svm import SVC

    from covpoolfer.train import resolve_dirs

    train_dir, val_dir = resolve_dirs(a.data_dir, None)
    if val_dir is None:
        raise StageError(f"{a.data_dir}: expected a val/ folder beside Train/, found none")
    run_dir = Path(a.ckpt_path) if Path(a.ckpt_path).is_dir() else Path(a.ckpt_path).parent
    data = extract(a.ckpt_path, {"train": train_dir, "val": val_dir}, run_dir / "features.h5", a.batch_size,
                   a.use_ema)
    (xtr, ytr, _), (xva, yva, _) = data["train"], data["val"]
    svm = SVC(kernel="linear", probability=True, random_state=0).fit(normalize(xtr), ytr)
    pred = svm.predict_proba(normalize(xva)).argmax(1)
    acc = float(np.mean(svm.classes_[pred] == yva))
    print(f"linear SVM on L2-normalised features: val accuracy {acc:.4f} ({len(yva)} images)")
    result = {"val_accuracy": acc, "val_images": len(yva), "train_images": len(ytr)}
    if a.nrof_total:
        n = len(yva)
        if a.nrof_total < n:
            raise StageError(f"--nrof_total: expected at least the {n} val images scored, found {a.nrof_total}")
        norm = acc * n / a.nrof_total + (1 / 7) * (a.nrof_total - n) / a.nrof_total
        print(f"counting {a.nrof_total - n} undetected faces as chance: {norm:.4f}")
        result["accuracy_over_total"] = norm
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
