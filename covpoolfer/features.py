"""Per-frame features of every clip through a trained image model, as the temporal stages read them.

    covpoolfer features --ckpt_path models/<run> --input data/AFEW_faces --output afew_features

INPUT holds `prepare --dataset afew`'s aligned frames, `<split>/<Emotion>/<clip>/<frame>.png`
(or `<Emotion>/<clip>/...` without splits). OUTPUT gets `<split>/<Emotion>/<clip>/<clip>.npy`,
float32 [frames, D]: the image model's `--layer` (prelogits: covpoolnet2's 128-d bottleneck, which
the paper's temporal network and the released checkpoint take). Beside it the per-frame baseline
of the image model alone is printed per split: frame accuracy, and clip accuracy with the label of
the clip's mean probabilities.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import (
    StageError,
    add_checkpoint_args,
    add_overwrite,
    output_dir,
    parser,
    positive_int,
    progress,
)
from common.images import list_images, load_rgb

LAYERS = ("prelogits", "features", "embeddings")


def build_parser():
    p = parser("covpoolfer features", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "covpoolfer")
    p.add_argument("--input", required=True, help="aligned face frames: [<split>/]<Emotion>/<clip>/<frame>.png")
    p.add_argument("--output", required=True, type=output_dir, help="folder for [<split>/]<Emotion>/<clip>/<clip>.npy")
    p.add_argument("--layer", choices=LAYERS, default="prelogits",
                   help="prelogits: the bottleneck (128-d in covpoolnet2); features: the layer before it; "
                        "embeddings: the L2-normalised prelogits")
    p.add_argument("--batch_size", type=positive_int, default=128, help="frames per forward pass")
    add_overwrite(p, "the .npy files")
    return p


def list_clip_folders(root: Path) -> list[tuple[str, str, Path]]:
    """(split or '', emotion, clip folder) for every clip folder holding frames."""
    if not root.is_dir():
        raise StageError(f"{root}: expected prepare's folder of aligned clip frames, found "
                         f"{'a file' if root.exists() else 'nothing'}")
    children = sorted(d for d in root.iterdir() if d.is_dir())
    with_splits = children and all(d.name in ("Train", "Val", "Test") for d in children)
    clips = []
    for split_dir in children if with_splits else [root]:
        split = split_dir.name if with_splits else ""
        for emotion in sorted(d for d in split_dir.iterdir() if d.is_dir()):
            for clip in sorted(d for d in emotion.iterdir() if d.is_dir()):
                clips.append((split, emotion.name, clip))
    if not clips:
        raise StageError(f"{root}: expected <Emotion>/<clip>/ folders of frames (covpoolfer prepare --dataset afew), "
                         f"found none")
    return clips


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    import tensorflow as tf

    from common.files import staged_dir
    from covpoolfer.models.checkpoints import restore_model
    from covpoolfer.trainer import predict

    clips = list_clip_folders(Path(a.input))
    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    size = int(config["image_size"])
    classes = list(config.get("classes") or [])
    scores: dict[str, list] = {}
    dim = None
    with staged_dir(a.output, a.overwrite, ["**/*.npy"]) as tmp:
        for split, emotion, clip in progress(clips, desc="features", unit="clip"):
            frames = list_images(clip)
            if not frames:
                raise StageError(f"{clip}: expected the clip's face frames (.png), found none")
            images = np.stack([load_rgb(f, (size, size)) for f in frames]).astype(np.float32)
            out = predict(model, images, a.batch_size)
            features = out[a.layer].astype(np.float32)
            dim = features.shape[1]
            target = tmp / split / emotion / clip.name / f"{clip.name}.npy"
            target.parent.mkdir(parents=True, exist_ok=True)
            np.save(target, features)
            if emotion in classes:
                probs = tf.nn.softmax(out["logits"]).numpy()
                truth = classes.index(emotion)
                scores.setdefault(split, []).append(
                    (float(np.mean(probs.argmax(1) == truth)), len(frames), int(probs.mean(0).argmax() == truth)))
    print(f"wrote {len(clips)} clips' {a.layer} [frames, {dim}] to {a.output} (checkpoint {prefix})")
    if dim != 128:
        print(f"note: the temporal network of the paper and the released checkpoint take 128-d features; these are "
              f"{dim}-d (tempPoolTrain adapts to them)")
    baseline = {}
    for split, rows in scores.items():
        frames = sum(n for _, n, _ in rows)
        frame_acc = sum(acc * n for acc, n, _ in rows) / frames
        clip_acc = float(np.mean([hit for _, _, hit in rows]))
        baseline[split or "all"] = {"clips": len(rows), "frames": frames, "frame_accuracy": frame_acc,
                                    "clip_accuracy": clip_acc}
        print(f"per-frame image model, {split or 'all clips'}: frame accuracy {100 * frame_acc:.2f}% over {frames} "
              f"frames, clip accuracy (mean probabilities) {100 * clip_acc:.2f}% over {len(rows)} clips")
    return {"clips": len(clips), "dim": dim, "baseline": baseline, "checkpoint": prefix}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
