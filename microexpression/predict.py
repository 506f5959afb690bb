"""Predict a folder of images (or a split) and draw a grid of images with true and predicted labels.

    python -m microexpression.predict --model output/MicroExpression --data_root classification2 \
        --picture predictions.png

Like the original notebook's visualisation; a folder's images have no true label, so only the
prediction is shown. Predictions are also printed, one line per image.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import output_file, parser, positive_int


def draw_grid(images, titles, colours, path, columns: int = 4) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from common.files import atomic_path

    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.9 * rows), dpi=100, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, title, colour in zip(axes.ravel(), images, titles, colours, strict=False):
        ax.imshow(img)
        ax.set_title(title, fontsize=8, color=colour)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main(argv=None) -> dict:
    p = parser("microexpression predict", __doc__.strip().splitlines()[0])
    p.add_argument("--model", default="./output/MicroExpression")
    p.add_argument("--data_root", default="classification2", help="annotation folder (with --mode)")
    p.add_argument("--mode", default="test", choices=["test", "valid", "train"])
    p.add_argument("--images", default=None, help="a folder of images to predict instead of a split")
    p.add_argument("--count", type=positive_int, default=12, help="images in the picture")
    p.add_argument("--picture", type=output_file, default="predictions.png")
    a = p.parse_args(argv)
    from PIL import Image

    from common.images import list_images, load_rgb
    from microexpression.data import MicroExpression, transforms
    from microexpression.models.checkpoints import restore_model

    model, config, _ = restore_model(a.model)
    net = model.network
    names = config["LABEL_MAP"]
    if a.images:
        files, truth = list_images(a.images), None
        if not files:
            from common.cli import StageError

            raise StageError(f"{a.images}: expected images, found none")
    else:
        items = MicroExpression(a.mode, a.data_root, config["image_shape"], config["num_classes"]).items
        files, truth = [f for f, _ in items], [label for _, label in items]
    tf = transforms("test", config["image_shape"])
    net.eval()
    import paddle

    preds = []
    for start in range(0, len(files), 32):
        batch = np.stack([tf(Image.fromarray(load_rgb(f))) for f in files[start:start + 32]])
        preds.append(net(paddle.to_tensor(batch)).numpy().argmax(1))
    preds = np.concatenate(preds)
    for i, (f, y) in enumerate(zip(files, preds, strict=True)):
        print(f"{f}\tpredicted {names[y]}" + (f"\ttrue {names[truth[i]]}" if truth else ""))
    shown = np.linspace(0, len(files) - 1, min(a.count, len(files))).astype(int)
    titles = [f"pred {names[preds[i]]}" + (f"\ntrue {names[truth[i]]}" if truth else "") for i in shown]
    colours = ["black" if truth is None else ("green" if preds[i] == truth[i] else "red") for i in shown]
    draw_grid([load_rgb(files[i]) for i in shown], titles, colours, a.picture)
    if truth:
        print(f"accuracy {np.mean(preds == np.array(truth)):.4f} on {len(files)} {a.mode} images")
    print(f"picture of {len(shown)} predictions in {Path(a.picture)}")
    return {"images": len(files), "accuracy": float(np.mean(preds == np.array(truth))) if truth else None,
            "picture": Path(a.picture)}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
