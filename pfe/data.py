"""PFE data: CASIA-style identity folders for training, aligned LFW plus lfw_pairs.txt for testing.

Images are aligned 112x96 RGB; the network sees (x − 127.5)/128 ("mean_scale"), with a random
horizontal flip in training only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.cli import StageError
from common.images import labelled_images, load_rgb

IMAGE_SIZE = (112, 96)


def standardize(pixels) -> np.ndarray:
    return (np.asarray(pixels, np.float32) - 127.5) / 128.0


def list_identities(root: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Image paths, int labels (sorted identity folders) and identity names."""
    return labelled_images(root)


def balanced_indices(labels: np.ndarray, classes_per_batch: int, images_per_class: int, seed: int):
    """Endless batches of indices: random identities, images_per_class images each (the
    original's get_batch_indices: without replacement, repeats only for small classes)."""
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
    by_class = [idx for idx in by_class if len(idx)]
    if len(by_class) < classes_per_batch:
        raise StageError(f"expected at least {classes_per_batch} identities for a batch, found {len(by_class)}")
    while True:
        batch = []
        for c in rng.permutation(len(by_class))[:classes_per_batch]:
            idx = by_class[c]
            reps = -(-images_per_class // len(idx))
            batch.append(np.concatenate([rng.permutation(idx) for _ in range(reps)])[:images_per_class])
        yield np.concatenate(batch)


def image_dataset(paths: list[str], labels: np.ndarray, index_batches, flip: bool = True, seed: int = 0):
    """tf.data batches of (standardised float32 [B,112,96,3], int32 labels) for index batches."""
    import tensorflow as tf

    from common.tf.augment import random_flip

    first = next(index_batches)
    batch = len(first)

    def indices():
        yield first
        yield from index_batches

    path_table, label_table = tf.constant(paths), tf.constant(labels)

    def load(i):
        img = tf.io.decode_image(tf.io.read_file(path_table[i]), channels=3, expand_animations=False)
        img = tf.ensure_shape(img, (*IMAGE_SIZE, 3))
        return (tf.cast(img, tf.float32) - 127.5) / 128.0, label_table[i]

    ds = tf.data.Dataset.from_generator(indices, output_signature=tf.TensorSpec([batch], tf.int64))
    ds = ds.unbatch().map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if flip:
        ds = random_flip(ds, seed)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def lfw_images(lfw_dir: str | Path | None, pairs_file: str | Path, image_list: str | Path | None = None,
               check_files: bool = True):
    """The image list (explicit, or every image the pairs name, in first-use order) and the pairs.

    Returns (paths, PairsFile, index of each pair's two images in paths). Pairs are matched
    by basename; ``check_files=False`` only needs the names (scoring msame outputs).
    """
    from common.lfw_pairs import read_pairs

    root, pairs = Path(lfw_dir or "."), read_pairs(pairs_file)
    needed = pairs.image_paths(root)
    if image_list:
        lines = [ln.strip() for ln in Path(image_list).read_text(encoding="utf-8").splitlines() if ln.strip()]
        paths = [Path(ln) if Path(ln).is_absolute() else root / ln for ln in lines]
    else:
        paths = list(dict.fromkeys(p for pair in needed for p in pair))
    # Pairs are resolved by basename, as the original LFWTest does.
    by_stem = {p.stem: i for i, p in enumerate(paths)}
    index = []
    for n, (a, b) in enumerate(needed):
        for p in (a, b):
            if p.stem not in by_stem:
                raise StageError(f"{pairs_file}: pair {n + 1} names {p.stem}, expected it in the image list, "
                                 f"found no such image")
        index.append((by_stem[a.stem], by_stem[b.stem]))
    for p in paths if check_files else []:
        if not p.is_file():
            raise StageError(f"{p}: expected an aligned LFW image (named by {pairs_file} or the list), found nothing")
    return [str(p) for p in paths], pairs, np.array(index)


def load_standardized(paths: list[str]) -> np.ndarray:
    return np.stack([standardize(load_rgb(p, IMAGE_SIZE)) for p in paths])
