"""Top-1/top-5 accuracy, per-class accuracy and the confusion matrix (PNG) on the test split.

    python -m microexpression.evaluate --model output/MicroExpression --data_root classification2 \
        --plot confusion.png
"""

from __future__ import annotations

import sys

import numpy as np

from common.cli import output_file, parser, positive_int


def predict_logits(model, dataset, batch_size: int = 32) -> np.ndarray:
    out = model.predict(dataset, batch_size=batch_size, stack_outputs=True, verbose=0)
    return np.asarray(out[0])


def scores(model_path: str, data_root, mode: str = "test", batch_size: int = 32, random_eval_crop: bool = False):
    """(top-1, top-5, confusion matrix, class names, image count) of a trained model on a split."""
    from common.metrics import confusion, topk_accuracy
    from microexpression.data import MicroExpression
    from microexpression.models.checkpoints import restore_model

    model, config, _ = restore_model(model_path)
    data = MicroExpression(mode, data_root, config["image_shape"], config["num_classes"], random_eval_crop)
    logits = predict_logits(model, data, batch_size)
    labels = np.array([label for _, label in data.items])
    names = config["LABEL_MAP"]
    return (topk_accuracy(labels, logits, 1), topk_accuracy(labels, logits, 5),
            confusion(labels, logits.argmax(1), len(names)), names, len(labels))


def main(argv=None) -> dict:
    p = parser("microexpression evaluate", __doc__.strip().splitlines()[0])
    p.add_argument("--model", default="./output/MicroExpression", help="train's model_save_dir prefix")
    p.add_argument("--data_root", default="classification2")
    p.add_argument("--mode", default="test", choices=["test", "valid", "train"])
    p.add_argument("--batch_size", type=positive_int, default=32)
    p.add_argument("--random_eval_crop", action="store_true", help="original quirk: RandomCrop (not repeatable)")
    p.add_argument("--plot", type=output_file, default=None, metavar="PNG", help="draw the confusion matrix here")
    a = p.parse_args(argv)
    from common.metrics import format_confusion
    from common.plots import plot_confusion

    top1, top5, cm, names, count = scores(a.model, a.data_root, a.mode, a.batch_size, a.random_eval_crop)
    print(f"{a.mode}: {count} images  top-1 {top1:.4f}  top-5 {top5:.4f}")
    print("confusion matrix (rows: true class, columns: predicted) and per-class accuracy:")
    print(format_confusion(cm, names))
    if a.plot:
        plot_confusion(cm, names, a.plot, title=f"micro-expressions, {a.mode} top-1 {top1:.3f}")
        print(f"confusion matrix drawn to {a.plot}")
    return {"mode": a.mode, "images": count, "top1": top1, "top5": top5, "chance_top1": 1 / len(names),
            "class_names": names, "confusion": cm.tolist()}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
