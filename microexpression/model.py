"""The classifier: paddle.vision's ResNet (50 as the original; 18/34 for small machines) and
offline loading of local ImageNet weights (the 1000-class fc is skipped, as the original did)."""

from __future__ import annotations

from pathlib import Path

import paddle

from common.cli import StageError

ARCHS = ("resnet50", "resnet18", "resnet34")


def build_network(arch: str = "resnet50", num_classes: int = 7, pretrained: str | None = None):
    """A fresh network; `pretrained` is a local .pdparams (never downloaded: no network here)."""
    if arch not in ARCHS:
        raise StageError(f"--arch: expected one of {ARCHS}, found '{arch}'")
    # Fresh parameter names (conv2d_0.w_0, ...) however many networks this process built, so a
    # checkpoint's optimizer state (keyed by those names) loads into this network.
    with paddle.utils.unique_name.guard():
        net = getattr(paddle.vision.models, arch)(num_classes=num_classes, pretrained=False)
    if pretrained:
        path = Path(pretrained)
        if not path.is_file():
            raise StageError(f"{path}: expected local ImageNet weights (.pdparams) for --pretrained, found nothing "
                             f"(nothing is downloaded; e.g. copy resnet50.pdparams from a machine with internet)")
        state = paddle.load(str(path))
        own = net.state_dict()
        usable = {k: v for k, v in state.items() if k in own and list(v.shape) == list(own[k].shape)}
        if not any(k.startswith("conv1") for k in usable):
            raise StageError(f"{path}: expected {arch} weights, found none matching (keys like {list(state)[:3]})")
        net.set_state_dict(usable)
        skipped = sorted(set(own) - set(usable))
        print(f"loaded {len(usable)} tensors from {path}; kept fresh: {', '.join(skipped) or 'none'}")
    return net


def input_spec(image_shape):
    return [paddle.static.InputSpec([-1, *[int(v) for v in image_shape]], "float32", "image")]


def load_trained(model_path: str):
    """paddle.Model of a trained `model_save_dir` prefix (weights + the .json config train wrote)."""
    import json

    prefix = str(model_path).removesuffix(".pdparams")
    params, config_file = Path(prefix + ".pdparams"), Path(prefix + ".json")
    for f, what in ((params, "trained weights"), (config_file, "the config train writes beside them")):
        if not f.is_file():
            raise StageError(f"{f}: expected {what}, found nothing")
    config = json.loads(config_file.read_text())
    net = build_network(config.get("arch", "resnet50"), config["num_classes"])
    model = paddle.Model(net, inputs=input_spec(config["image_shape"]))
    model.load(prefix, skip_mismatch=False, reset_optimizer=True)
    model.prepare()  # predict/evaluate need it, even without an optimizer
    return model, net, config
