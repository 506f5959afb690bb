"""The original config.py: a CONFIG dict and a dotted `get(key)`, plus file and --set overrides.

Values are the published project's. `total_images` only sizes the cosine schedule
(T_max = total_images // batch_size · epochs); the original's 17245 is stale (its train split
has 2464 frames), so its learning rate barely decays. Here it is derived from the training
annotation unless set: `--set total_images=17245` reproduces the original schedule.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from common.cli import StageError
from common.models import CASME2_CLASSES

CONFIG = {
    "model_save_dir": "./output/MicroExpression",
    "num_classes": 7,
    "total_images": None,  # derived from the data; the original hard-codes 17245
    "epochs": 20,
    "batch_size": 32,
    "image_shape": [3, 224, 224],
    "crop_scale": [0.08, 1.0],  # RandomResizedCrop's area range: Paddle's default, as the original
    "LEARNING_RATE": {"params": {"lr": 0.00375}},
    "OPTIMIZER": {"params": {"momentum": 0.9}, "regularizer": {"function": "L2", "factor": 0.000001}},
    "LABEL_MAP": list(CASME2_CLASSES),
}
ORIGINAL_TOTAL_IMAGES = 17245
TRAIN_EXTRAS = ("arch",)  # what train writes into <model_save_dir>.json beside the config

__all__ = ["CONFIG", "get", "load"]


def get(full_path: str, config: dict | None = None):
    """`get('LEARNING_RATE.params.lr')` walks the nested dict, as the original does."""
    node = CONFIG if config is None else config
    for part in full_path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise StageError(f"config: expected a key '{full_path}', found no '{part}'")
        node = node[part]
    return node


def _set(config: dict, full_path: str, value) -> None:
    *parents, leaf = full_path.split(".")
    node = config
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise StageError(f"config: expected a section '{part}' for '{full_path}', found none")
        node = node[part]
    if leaf not in node:
        raise StageError(f"config: expected one of {sorted(node)} for '{full_path}', found '{leaf}'")
    node[leaf] = value


def _merge(config: dict, overrides: dict, prefix: str = "") -> None:
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _merge(config, value, f"{path}.")
        else:
            _set(config, path, value)


def load(config_file: str | None = None, sets: list[str] | None = None) -> dict:
    """CONFIG overridden by a JSON (or YAML, when PyYAML is installed) file, then `key=value` pairs
    (values parsed as JSON when they parse, else kept as strings)."""
    config = copy.deepcopy(CONFIG)
    if config_file:
        p = Path(config_file)
        if not p.is_file():
            raise StageError(f"{p}: expected a config file, found nothing")
        text = p.read_text(encoding="utf-8")
        if p.suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise StageError(f"{p}: YAML needs PyYAML (pip install pyyaml); or write the file as JSON") from None
            data = yaml.safe_load(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                raise StageError(f"{p}: expected JSON, found a syntax error ({err})") from None
        # train's `<model_save_dir>.json` is a config too: the architecture it adds is not a config key
        _merge(config, {k: v for k, v in (data or {}).items() if k not in TRAIN_EXTRAS})
    for item in sets or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise StageError(f"--set: expected key=value, found '{item}'")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        _set(config, key.strip(), value)
    if len(config["LABEL_MAP"]) != config["num_classes"]:
        raise StageError(f"config: expected num_classes {config['num_classes']} names in LABEL_MAP, "
                         f"found {len(config['LABEL_MAP'])}")
    check(config)
    return config


def check(config: dict) -> None:
    """One line for a value no stage could use: sizes and counts must be whole numbers >= 1."""
    shape = config["image_shape"]
    if not (isinstance(shape, list) and len(shape) == 3 and shape[0] == 3
            and all(isinstance(d, int) and d >= 1 for d in shape)):
        raise StageError(f"config: expected image_shape [3, H, W] with H, W >= 1, found {shape}")
    for key in ("epochs", "batch_size", "num_classes"):
        if not (isinstance(config[key], int) and config[key] >= 1):
            raise StageError(f"config: expected {key} a whole number of at least 1, found {config[key]!r}")
    lr = get("LEARNING_RATE.params.lr", config)
    if not (isinstance(lr, int | float) and lr > 0):
        raise StageError(f"config: expected LEARNING_RATE.params.lr above 0, found {lr!r}")
    crop = config["crop_scale"]
    if not (isinstance(crop, list) and len(crop) == 2 and 0 < crop[0] <= crop[1] <= 1):
        raise StageError(f"config: expected crop_scale [min, max] with 0 < min <= max <= 1, found {crop}")


def add_arguments(p) -> None:
    """--config and --set, shared by the stages."""
    p.add_argument("--config", default=None, help="JSON (or YAML) file overriding CONFIG")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one dotted key, e.g. --set LEARNING_RATE.params.lr=0.01 (repeatable)")
