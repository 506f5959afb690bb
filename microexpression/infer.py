"""paddle.inference on exported models: predictions for images or a folder, with timing per image.

    python -m microexpression.infer --model infer/MicroExpression --images classification2/test/happiness

Reads `<model>.json` (or `.pdmodel`) + `.pdiparams`, preprocesses as evaluation does (Resize,
CenterCrop, ImageNet normalise), runs the CPU predictor one image at a time and prints the class
of each image and the mean milliseconds per image (after one warm-up run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from common.cli import StageError, parser, positive_int
from microexpression import config as cfg


def exported_image_shape(model: str, configured: list[int], explicit: bool) -> list[int]:
    """The [C, H, W] the model was exported with (its `.spec.json`): the default for preprocessing,
    and a different size asked for explicitly is refused (it would run and predict nonsense)."""
    from common.backends import paddle_files
    from common.modelspec import read_spec

    prefix, _, _ = paddle_files(model)
    spec_file = Path(prefix + ".spec.json")
    if not spec_file.is_file():
        return list(configured)
    exported = [int(d) for d in read_spec(spec_file).inputs[0].shape[1:]]
    if explicit and list(configured) != exported:
        raise StageError(f"{spec_file}: the model was exported for image_shape {exported}, found {list(configured)} "
                         f"from --config/--set; drop them or export again")
    return exported


def main(argv=None) -> dict:
    p = parser("microexpression infer", __doc__.strip().splitlines()[0])
    p.add_argument("--model", default="infer/MicroExpression", help="exported prefix")
    p.add_argument("--images", required=True, help="an image file or a folder of images")
    cfg.add_arguments(p)  # LABEL_MAP and image_shape: pass train's <model_save_dir>.json if you changed them
    p.add_argument("--threads", type=positive_int, default=2)
    a = p.parse_args(argv)
    from PIL import Image

    from common.backends import paddle_backend
    from common.images import list_images, load_rgb
    from microexpression.data import transforms

    config = cfg.load(a.config, a.set)
    config["image_shape"] = exported_image_shape(a.model, config["image_shape"],
                                                 a.config is not None or any(s.startswith("image_shape") for s in a.set))
    target = Path(a.images)
    files = list_images(target) if target.is_dir() else [target]
    if not files or not files[0].is_file():
        raise StageError(f"{target}: expected an image or a folder of images, found none")
    tf = transforms("test", config["image_shape"])
    backend = paddle_backend(a.model, threads=a.threads)
    names, times = config["LABEL_MAP"], []
    for i, f in enumerate(files):
        x = np.asarray(tf(Image.fromarray(load_rgb(f))))[None]  # one line for an unreadable file
        if i == 0:
            backend([x])  # warm-up, not timed
        t0 = time.perf_counter()
        (logits,) = backend([x])
        times.append((time.perf_counter() - t0) * 1000)
        print(f"{f}\t{names[int(logits.argmax())]}\t{times[-1]:.2f} ms")
    print(f"{len(files)} images, {np.mean(times):.2f} ms per image (paddle.inference, CPU, {a.threads} threads)")
    return {"images": len(files), "ms_per_image": float(np.mean(times)), "runtime": backend.name,
            "threads": a.threads}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
