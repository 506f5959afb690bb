"""Classify AFEW clips with the temporal pooling network (the original temporal_pooling/src/softmaxClassifier.py).

    covpoolfer softmaxClassifier afew_features/Val models/20180618-004944/ --batch_size 31

DATA_DIR holds one folder per emotion and one folder per clip with ``<clip>.npy``, the clip's
per-frame 128-d features; each clip's covariance goes through the network. MODEL is the released
checkpoint folder as distributed (its `checkpoint` file names the author's paths), a tempPoolTrain
run, or the frozen graph ckpt2pb writes (TemporalPool.pb, run at its fixed batch, the last padded).
Prints the original's lines: the total accuracy, the accuracy counting the clips without a
detected face (AFEW Val has 383) as chance, and the accuracy of each class.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, output_file, parser, positive_int

AFEW_VAL_CLIPS = 383  # the original's constant: every clip of AFEW 7.0 Val, faces found or not


def build_parser():
    p = parser("covpoolfer softmaxClassifier", __doc__.strip().splitlines()[0])
    p.add_argument("data_dir", help="emotion folders of clip folders, each with <clip>.npy [frames, 128]")
    p.add_argument("model", help="the temporal pooling network: the release's folder, a tempPoolTrain run or ckpt "
                                 "prefix, or a frozen TemporalPool.pb (ckpt2pb)")
    p.add_argument("--batch_size", type=positive_int, default=90, help="clips per forward pass")
    p.add_argument("--min_nrof_videos_per_class", type=int, default=0,
                   help="only classes with at least this many clips are scored (the original parses it, default "
                        "20, but scores every class: 0 does the same)")
    p.add_argument("--total_clips", type=positive_int, default=AFEW_VAL_CLIPS,
                   help="clips of the whole set, found or not, for the adjusted accuracy")
    p.add_argument("--original_adjusted_accuracy", action="store_true",
                   help="the original's adjusted line, which counts each missing clip as 1/7 of a per cent instead "
                        "of chance (100/7 per cent)")
    p.add_argument("--use_ema", action="store_true", help="read the ExponentialMovingAverage shadows where present")
    p.add_argument("--predictions", type=output_file, default=None, metavar="TSV",
                   help="also write clip folder, true class and predicted class, one clip per line")
    return p


def adjusted_accuracy(accuracy: float, scored: int, total: int, classes: int, original: bool = False) -> float:
    """Per cent correct over ``total`` clips when the ``total - scored`` without a face count as
    chance (1/classes each); ``original``: the original's formula, which adds 1/7 per cent per clip."""
    missing = max(total - scored, 0)
    per_missing = (1.0 / classes) if original else (100.0 / classes)
    return (100.0 * accuracy * scored + per_missing * missing) / total


def classifier(model: str, use_ema: bool):
    """(covariances [N, d, d] -> logits [N, classes], d, classes, where from) of a checkpoint or a
    frozen .pb; a .pb runs at its fixed batch, the last one padded with the first clips as the
    original pads."""
    if Path(model).suffix == ".pb":
        from common.backends import load_backend

        backend = load_backend(model)
        names = [t.name for t in backend.spec.inputs]
        if names[:1] != ["input"] or backend.spec.outputs[0].name.split(":")[0] != "Logits/BiasAdd":
            raise StageError(f"{model}: expected a frozen temporal pooling graph (input, phase_train -> Logits/BiasAdd), "
                             f"found inputs {names} and outputs {[t.name for t in backend.spec.outputs]}")
        batch, dim = backend.spec.inputs[0].shape[0], backend.spec.inputs[0].shape[-1]

        def run(covariances):
            n = len(covariances)
            padded = np.concatenate([covariances, np.resize(covariances, (-n % batch, dim, dim))])
            extra = [np.array(False)] if len(names) > 1 else []
            return np.concatenate([backend([padded[i:i + batch], *extra])[0]
                                   for i in range(0, len(padded), batch)])[:n]

        return run, dim, backend.spec.outputs[0].shape[-1], model
    from covpoolfer.models.checkpoints import restore_temporal_model

    net, config, prefix = restore_temporal_model(model, use_ema)
    return (lambda covariances: net(covariances, training=False)["logits"].numpy()), config["input_dim"], \
        config["num_classes"], prefix


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.files import write_text_atomic
    from covpoolfer.afew import clip_covariance, list_clips, load_features

    clips = list_clips(a.data_dir)
    counts = np.bincount(clips.labels, minlength=len(clips.class_names))
    keep = np.isin(clips.labels, np.flatnonzero(counts >= a.min_nrof_videos_per_class))
    print(f"Number of classes: {len(clips.class_names)}")
    print(f"Number of videos: {int(keep.sum())}")
    logits_of, dim, classes, prefix = classifier(a.model, a.use_ema)
    if classes != len(clips.class_names):
        raise StageError(f"{a.data_dir}: expected {classes} emotion folders (the classes of {prefix}), "
                         f"found {len(clips.class_names)}")
    scored, covariances, skipped = [], [], []
    for k in np.flatnonzero(keep):
        features = load_features(clips.paths[k], dim)
        if len(features) < 2:  # one frame has no covariance
            skipped.append(clips.paths[k])
            print(f"skipped: {clips.paths[k]}: expected at least 2 frames, found {len(features)}", file=sys.stderr)
            continue
        scored.append(k)
        covariances.append(clip_covariance(features))
    if not scored:
        raise StageError(f"{a.data_dir}: expected clips of at least 2 frames, found none")
    predicted = np.concatenate([np.argmax(logits_of(np.stack(covariances[i:i + a.batch_size])), 1)
                                for i in range(0, len(covariances), a.batch_size)])
    labels = clips.labels[scored]
    accuracy = float(np.mean(predicted == labels))
    adjusted = adjusted_accuracy(accuracy, len(scored), a.total_clips, len(clips.class_names),
                                 a.original_adjusted_accuracy)
    print(f"Samples considered: {len(scored)}. Total Videos: {int(keep.sum())}")
    print(f"Total Accuracy: {100 * accuracy:.3f}%")
    print(f"Total Accuracy accounting for face detection failure: {adjusted:.3f}%")
    print("Per Class Accuracy: ")
    per_class = {}
    for c, name in enumerate(clips.class_names):
        mine = labels == c
        if mine.any():
            per_class[name] = float(np.mean(predicted[mine] == c))
            print(f"Accuracy of {name} {100 * per_class[name]}%")
    if a.predictions:
        rows = [f"{clips.paths[k]}\t{clips.class_names[clips.labels[k]]}\t{clips.class_names[p]}"
                for k, p in zip(scored, predicted, strict=True)]
        write_text_atomic(a.predictions, "clip\tlabel\tpredicted\n" + "\n".join(rows) + "\n")
        print(f"predictions written to {a.predictions}")
    return {"accuracy": accuracy, "adjusted_accuracy": adjusted / 100, "per_class": per_class, "scored": len(scored),
            "skipped": [str(p) for p in skipped], "checkpoint": prefix,
            "predictions": [int(p) for p in predicted], "clips": [str(clips.paths[k]) for k in scored]}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
