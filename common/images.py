"""Robust image loading: always RGB uint8, optional size check, one clear error per bad file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from common.cli import StageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff", ".webp")


class ImageError(StageError):
    """An image that cannot be used: missing, truncated, corrupt or of the wrong size."""


def decode_rgb(data: bytes, name: str = "<bytes>", size: tuple[int, int] | None = None,
               resize: bool = False, orient: bool = False) -> np.ndarray:
    """Decode encoded image bytes to an RGB uint8 array of shape (H, W, 3).

    ``size`` is (height, width). With ``resize`` the image is resized (bilinear) to it,
    otherwise a different size is an error. ``orient`` turns a camera photo upright by its
    EXIF orientation tag (datasets' crops are stored upright and carry none).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # forces a full decode, so truncated files fail here
            if orient:
                img = ImageOps.exif_transpose(img)
            if img.mode in ("I;16", "I;16L", "I;16B", "I"):
                # 16-bit grayscale: Pillow's convert("RGB") clips at 255 (all white); scale instead.
                wide = np.asarray(img, dtype=np.float64)
                img = Image.fromarray(np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8), "L")
            if img.mode != "RGB":
                # Grayscale, palette, CMYK and RGBA all become RGB (alpha is dropped).
                img = img.convert("RGB")
            if size is not None and (img.height, img.width) != tuple(size):
                if not resize:
                    raise ImageError(f"{name}: expected {size[0]}x{size[1]} pixels (HxW), "
                                     f"found {img.height}x{img.width}")
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(img, dtype=np.uint8).copy()
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{name}: expected a readable image, found a corrupt or truncated file "
                         f"({err})") from None


def encode_image(rgb: np.ndarray, fmt: str = "png", quality: int = 90) -> bytes:
    """An RGB (or grey) uint8 array as PNG bytes, or JPEG at ``quality``."""
    from PIL import Image

    buf = io.BytesIO()
    if fmt == "png":
        Image.fromarray(rgb).save(buf, format="PNG")
    else:
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def load_rgb(path: str | os.PathLike, size: tuple[int, int] | None = None,
             resize: bool = False, orient: bool = False) -> np.ndarray:
    """Load ``path`` as an RGB uint8 array (H, W, 3); see :func:`decode_rgb` for ``size``."""
    p = Path(path)
    if not p.is_file():
        raise ImageError(f"{p}: expected an image file, found nothing")
    data = p.read_bytes()
    if not data:
        raise ImageError(f"{p}: expected an image file, found an empty file")
    return decode_rgb(data, str(p), size, resize, orient)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; hidden files are ignored. An image
    name that is not a readable file (a broken or looping link) is an error, not skipped."""
    out = []
    for p in Path(folder).iterdir():
        if p.name.startswith(".") or p.suffix.lower() not in IMAGE_SUFFIXES or p.is_dir():
            continue
        if not p.is_file():
            raise ImageError(f"{p}: expected an image file, found a broken or looping symbolic link")
        out.append(p)
    return sorted(out)


def class_folders(root: str | os.PathLike) -> list[Path]:
    """Sorted class sub-directories of ``root`` (label = index in this list), as facenet does."""
    p = Path(root)
    if not p.is_dir():
        raise StageError(f"{p}: expected a folder of class sub-folders, found nothing")
    classes = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise StageError(f"{p}: expected class sub-folders, found none")
    return classes


def labelled_images(root: str | os.PathLike) -> tuple[list[str], np.ndarray, list[str]]:
    """Image paths, int32 labels (index of the sorted class folder) and class names."""
    folders = class_folders(root)
    paths, labels = [], []
    for label, folder in enumerate(folders):
        files = list_images(folder)
        paths += [str(f) for f in files]
        labels += [label] * len(files)
    if not paths:
        raise StageError(f"{root}: expected images in the class folders, found none")
    return paths, np.array(labels, np.int32), [f.name for f in folders]
