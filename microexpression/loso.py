"""Leave-one-subject-out evaluation, as micro-expression work reports it: UF1 and UAR.

    python -m microexpression.loso --data_root megc --pretrained resnet50.pdparams --set epochs=20

One model per subject of annotate's all.txt: trained on every other subject, then scored on the
held-out one. Each fold writes <out>/<subject>/predictions.tsv when it is done (its checkpoints
go meanwhile to <out>/<subject>/chk and are removed after, unless --keep_checkpoints), so a rerun
skips finished folds and resumes an interrupted one from its last epoch. The predictions of all
finished folds are pooled: the summed confusion matrix, UF1 (mean of the per-class F1 over the
pooled counts) and UAR (mean per-class recall), overall and per dataset, with accuracy beside them
(MEGC 2019's definitions). VisualDL curves per fold go to <out>/<subject>/visualdl_log.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, output_dir, parser, positive_int, setup_logging
from common.files import write_json_atomic, write_text_atomic
from microexpression import config as cfg
from microexpression.models import ARCHS


def build_parser():
    p = parser("microexpression loso", __doc__.strip().splitlines()[0])
    p.add_argument("--data_root", required=True, help="annotate's output from --casme2_raw/--samm (all.txt)")
    p.add_argument("--folds", default="all", help="'all' subjects, or the first N (sorted) to run now")
    p.add_argument("--out", type=output_dir, default=None, help="fold folders and the summary (default <data_root>/loso)")
    p.add_argument("--arch", default="resnet50", choices=ARCHS)
    p.add_argument("--pretrained", default=None, help="local ImageNet .pdparams for every fold (nothing is downloaded)")
    p.add_argument("--num_workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--batch_size", type=positive_int, default=32, help="for scoring the held-out subject")
    p.add_argument("--keep_checkpoints", action="store_true", help="keep each fold's epoch checkpoints")
    p.add_argument("--seed", type=int, default=0)
    cfg.add_arguments(p)
    return p


def fold_name(subject: str) -> str:
    return subject.replace("/", "_") or "unknown"


def read_predictions(path: Path) -> list[tuple[int, int, str]]:
    """(true label, predicted label, dataset) rows of a finished fold."""
    rows = []
    for line in path.read_text().splitlines()[1:]:
        _, true, pred, subject = line.split("\t")
        rows.append((int(true), int(pred), subject.split("/")[0]))
    return rows


def run_fold(a, config, subject, held_out, training, fold: Path) -> None:
    import paddle

    from microexpression.data import MicroExpression
    from microexpression.evaluate import predict_logits
    from microexpression.trainer import fit

    shape, classes = config["image_shape"], config["num_classes"]
    paddle.seed(a.seed)
    np.random.seed(a.seed)
    with paddle.utils.unique_name.guard():
        train_set = MicroExpression("train", a.data_root, shape, classes, crop_scale=config["crop_scale"],
                                    items=[(p, y) for p, y, _ in training])
        test_set = MicroExpression("test", a.data_root, shape, classes, items=[(p, y) for p, y, _ in held_out])
        model, _ = fit(config, a.arch, train_set, None, fold / "chk", True, str(fold / "visualdl_log"),
                       a.pretrained, a.num_workers)
        predicted = predict_logits(model, test_set, a.batch_size).argmax(1)
    lines = ["path\ttrue\tpredicted\tsubject\n"] + [f"{p}\t{y}\t{int(k)}\t{subject}\n"
                                                      for (p, y, _), k in zip(held_out, predicted, strict=True)]
    write_text_atomic(fold / "predictions.tsv", "".join(lines))
    if not a.keep_checkpoints:
        shutil.rmtree(fold / "chk", ignore_errors=True)


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    setup_logging()
    from common.metrics import confusion, format_confusion, uf1_uar
    from microexpression.data import read_subjects

    if a.folds != "all" and not (a.folds.isdigit() and int(a.folds) >= 1):
        raise StageError(f"--folds: expected 'all' or a whole number of at least 1, found '{a.folds}'")
    root = Path(a.data_root)
    stored = root / "config.json"
    config = cfg.load(a.config or (str(stored) if stored.is_file() else None), a.set)
    samples = read_subjects(root, "all", config["num_classes"])
    subjects = sorted({s for _, _, s in samples})
    if "" in subjects:
        raise StageError(f"{root / 'all.txt'}: expected a subject in the third column of every line (annotate "
                         f"--casme2_raw/--samm writes it), found lines without")
    if len(subjects) < 2:
        raise StageError(f"{root / 'all.txt'}: expected at least 2 subjects for leave-one-subject-out, found {subjects}")
    todo = subjects if a.folds == "all" else subjects[:int(a.folds)]
    out = Path(a.out or root / "loso")
    names = config["LABEL_MAP"]
    print(f"{len(samples)} samples of {len(subjects)} subjects; {len(todo)} fold(s) requested, {a.arch}, "
          f"{config['epochs']} epochs each")
    for k, subject in enumerate(todo, 1):
        fold = out / fold_name(subject)
        if (fold / "predictions.tsv").is_file():
            print(f"fold {k}/{len(todo)} {subject}: done earlier, kept")
            continue
        held_out = [s for s in samples if s[2] == subject]
        training = [s for s in samples if s[2] != subject]
        print(f"fold {k}/{len(todo)} {subject}: train on {len(training)}, test on {len(held_out)}")
        run_fold(a, config, subject, held_out, training, fold)
    rows = [r for s in todo for r in read_predictions(out / fold_name(s) / "predictions.tsv")]
    true, pred = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    cm = confusion(true, pred, len(names))
    result = {"folds": len(todo), "subjects": len(subjects), "samples": len(rows), "classes": names,
              "confusion": cm.tolist(), "per_dataset": {}}
    result["UF1"], result["UAR"] = uf1_uar(true, pred)
    result["accuracy"] = float(np.mean(true == pred))
    print(f"LOSO over {len(todo)} of {len(subjects)} subjects, {len(rows)} samples: UF1 {result['UF1']:.4f}  "
          f"UAR {result['UAR']:.4f}  accuracy {result['accuracy']:.4f}")
    datasets = sorted({r[2] for r in rows})
    if len(datasets) > 1:
        for d in datasets:
            keep = np.array([r[2] == d for r in rows])
            uf1, uar = uf1_uar(true[keep], pred[keep])
            acc = float(np.mean(true[keep] == pred[keep]))
            result["per_dataset"][d] = {"samples": int(keep.sum()), "UF1": uf1, "UAR": uar, "accuracy": acc}
            print(f"  {d}: {int(keep.sum())} samples  UF1 {uf1:.4f}  UAR {uar:.4f}  accuracy {acc:.4f}")
    print("summed confusion matrix (rows: true class, columns: predicted) and per-class recall:")
    print(format_confusion(cm, names))
    write_json_atomic(out / "summary.json", result)
    print(f"wrote {out / 'summary.json'}")
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
