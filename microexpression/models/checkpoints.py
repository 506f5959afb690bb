"""A trained micro-expression classifier from its saved prefix: our train's (weights + .json
config) or the original notebook's (weights only). The stages restore through here only."""

from __future__ import annotations

import json
from pathlib import Path

import paddle

from common.cli import StageError
from microexpression.config import CONFIG
from microexpression.models.resnet import build_model, describe_weights, input_spec


def restore_model(model_path: str):
    """paddle.Model of a trained `model_save_dir` prefix: weights plus the .json config train
    wrote, or, for a model the original notebook saved (`paddle.Model.save`, no .json), the
    original settings with the architecture and class count read off the weights."""
    prefix = str(model_path).removesuffix(".pdparams")
    params, config_file = Path(prefix + ".pdparams"), Path(prefix + ".json")
    if not params.is_file():
        raise StageError(f"{params}: expected trained weights, found nothing")
    if config_file.is_file():
        config = json.loads(config_file.read_text())
    else:
        arch, classes = describe_weights(paddle.load(str(params)), params)
        if classes != len(CONFIG["LABEL_MAP"]):
            raise StageError(f"{params}: expected the original notebook's {len(CONFIG['LABEL_MAP'])} classes without "
                             f"a {config_file.name} beside it, found {classes} (write train's .json config there)")
        config = {**CONFIG, "arch": arch, "num_classes": classes}
        print(f"{config_file}: not found; {params.name} read as the original notebook's model ({arch}, {classes} "
              f"classes, image {'x'.join(map(str, config['image_shape']))}, LABEL_MAP of config.py)")
    net = build_model(config.get("arch", "resnet50"), config["num_classes"])
    model = paddle.Model(net, inputs=input_spec(config["image_shape"]))
    model.load(prefix, skip_mismatch=False, reset_optimizer=True)
    model.prepare()  # predict/evaluate need it, even without an optimizer
    return model, config, prefix
