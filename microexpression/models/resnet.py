"""The classifier: paddle.vision's ResNet (50 as the original; 18/34 for small machines) and
offline loading of local ImageNet weights (the 1000-class fc is skipped, as the original did)."""

from __future__ import annotations

from pathlib import Path

import paddle

from common.cli import StageError
from microexpression.models import ARCHS


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
        head = "fc.weight" in state and list(state["fc.weight"].shape) != list(own["fc.weight"].shape)
        note = (f"; the {state['fc.weight'].shape[1]}-class classifier head is skipped and starts fresh for "
                f"{num_classes} classes" if head else "")
        print(f"loaded {len(usable)} tensors from {path}{note}; kept fresh: {', '.join(skipped) or 'none'}")
    return net


def input_spec(image_shape):
    return [paddle.static.InputSpec([-1, *[int(v) for v in image_shape]], "float32", "image")]


def describe_weights(state: dict, path) -> tuple[str, int]:
    """(arch, num_classes) of a paddle.vision ResNet state dict, read off its keys and fc shape."""
    layer3 = {int(k.split(".")[1]) for k in state if k.startswith("layer3.")}
    bottleneck = "layer1.0.conv3.weight" in state
    arch = {(True, 6): "resnet50", (False, 6): "resnet34", (False, 2): "resnet18"}.get((bottleneck, len(layer3)))
    if arch is None or "fc.weight" not in state:
        raise StageError(f"{path}: expected paddle.vision {'/'.join(ARCHS)} weights with an fc layer, found "
                         f"{len(state)} tensors like {', '.join(list(state)[:3])}")
    return arch, int(state["fc.weight"].shape[1])


def load_trained(model_path: str):
    """paddle.Model of a trained `model_save_dir` prefix: weights plus the .json config train
    wrote, or, for a model the original notebook saved (`paddle.Model.save`, no .json), the
    original settings with the architecture and class count read off the weights."""
    import json

    from microexpression.config import CONFIG

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
    net = build_network(config.get("arch", "resnet50"), config["num_classes"])
    model = paddle.Model(net, inputs=input_spec(config["image_shape"]))
    model.load(prefix, skip_mismatch=False, reset_optimizer=True)
    model.prepare()  # predict/evaluate need it, even without an optimizer
    return model, net, config
