"""`MicroExpression(mode)`: the original paddle.io.Dataset over annotate's `path<TAB>label` files.

train: RandomResizedCrop, horizontal flip, ToTensor, ImageNet Normalize (as the original).
valid/test: Resize(256·H/224) + CenterCrop, deterministic; the original's RandomCrop (which
makes every evaluation differ) is behind `random_eval_crop=True`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle
import paddle.vision.transforms as T
from PIL import Image

from common.cli import StageError

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def read_annotation(data_root: str | Path, mode: str, num_classes: int) -> list[tuple[Path, int]]:
    """(image path, label) of every line of <data_root>/<mode>.txt."""
    return [(p, label) for p, label, _ in read_subjects(data_root, mode, num_classes)]


def read_subjects(data_root: str | Path, mode: str, num_classes: int) -> list[tuple[Path, int, str]]:
    """(image path, label, subject column or '') of every line of <data_root>/<mode>.txt."""
    path = Path(data_root) / f"{mode}.txt"
    if not path.is_file():
        raise StageError(f"{path}: expected an annotation file (run `microexpression annotate`), found nothing")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")  # annotate from raw data adds subject and dataset columns
        if len(fields) < 2 or not fields[1].strip().isdigit() or int(fields[1]) >= num_classes:
            raise StageError(f"{path}:{n}: expected 'path<TAB>label[<TAB>subject<TAB>dataset]' with a label below "
                             f"{num_classes}, found '{line}'")
        items.append((Path(data_root) / fields[0].strip(), int(fields[1]), fields[2].strip() if len(fields) > 2 else ""))
    if not items:
        raise StageError(f"{path}: expected at least one image, found an empty annotation")
    return items


def transforms(mode: str, image_shape, random_eval_crop: bool = False, crop_scale=(0.08, 1.0)):
    size = (int(image_shape[1]), int(image_shape[2]))
    if mode == "train":
        steps = [T.RandomResizedCrop(size, scale=tuple(crop_scale)), T.RandomHorizontalFlip(0.5)]
    else:
        resize = int(round(size[0] * 256 / 224))  # 256 for the original 224
        steps = [T.Resize(resize), T.RandomCrop(size) if random_eval_crop else T.CenterCrop(size)]
    return T.Compose([*steps, T.ToTensor(), T.Normalize(mean=MEAN, std=STD)])


class MicroExpression(paddle.io.Dataset):
    """(CHW float32 image, int64 label) pairs of one split."""

    def __init__(self, mode: str = "train", data_root: str | Path = "classification2",
                 image_shape=(3, 224, 224), num_classes: int = 7, random_eval_crop: bool = False,
                 crop_scale=(0.08, 1.0), items: list[tuple[Path, int]] | None = None):
        """``items`` (path, label) instead of <data_root>/<mode>.txt: a LOSO fold's share."""
        super().__init__()
        if mode not in ("train", "valid", "test"):
            raise StageError(f"MicroExpression: expected mode train, valid or test, found '{mode}'")
        self.items = list(items) if items is not None else read_annotation(data_root, mode, num_classes)
        # Paddle's DataLoader reads in a thread that hangs, rather than stops, when __getitem__
        # raises: so every file's header is checked here, where an error is one clear line.
        for path, _ in self.items:
            try:
                Image.open(path).close()
            except (OSError, ValueError) as err:
                raise StageError(f"{path}: expected a readable image, found {err}") from None
        self.transforms = transforms(mode, image_shape, random_eval_crop, crop_scale)

    def __getitem__(self, index):
        path, label = self.items[index]
        try:
            with Image.open(path) as img:
                image = img.convert("RGB")  # grayscale/RGBA frames are converted, not dropped
        except (OSError, ValueError) as err:
            raise StageError(f"{path}: expected a readable image, found {err}") from None
        return self.transforms(image), np.array(label, dtype="int64")

    def __len__(self):
        return len(self.items)
