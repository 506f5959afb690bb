"""The classifier: paddle.vision's ResNet (50 as the original; 18/34 for small machines) and
offline loading of local ImageNet weights (the 1000-class fc is skipped, as the original did)."""

from __future__ import annotations

from pathlib import Path

import paddle

from common.cli import StageError
from microexpression.models import ARCHS


def build_model(arch: str = "resnet50", num_classes: int = 7, pretrained: str | None = None):
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
