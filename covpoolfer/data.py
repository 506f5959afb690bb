"""SFEW-style class folders -> tf.data pipelines (labels = sorted class-folder index)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.images import labelled_images, load_rgb
from common.tf.augment import with_seeds


def list_dataset(root: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Image paths, int labels and class names (sorted folders, files sorted within a class)."""
    return labelled_images(root)


def load_images(paths: list[str], image_size: int) -> np.ndarray:
    """Decode every image once (checked: RGB, image_size x image_size) into a uint8 array."""
    return np.stack([load_rgb(p, (image_size, image_size)) for p in paths])


def _rotate(image: tf.Tensor, max_degrees: float, seed) -> tf.Tensor:
    """Random rotation in [-max, max] degrees about the centre, zero fill, like facenet's
    scipy.misc.imrotate (bilinear here; bicubic is not a TF image-transform mode)."""
    angle = tf.random.stateless_uniform([], seed, -max_degrees, max_degrees) * math.pi / 180
    h, w = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
    cos, sin = tf.cos(angle), tf.sin(angle)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    transform = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=tf.stack(transform)[None], output_shape=tf.shape(image)[:2],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    return out[0]


def train_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, augment: bool,
                  seed: int, shuffle: bool = True) -> tf.data.Dataset:
    """Endless batches of (float32 0..255 images, int32 labels), shuffled on each pass unless
    ``shuffle`` is off (then in listing order, batches running on across passes)."""
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat()
    if augment:
        def aug(pair, s):
            image, label = pair
            image = tf.cast(image, tf.float32)
            image = _rotate(image, 10.0, s)
            image = tf.image.stateless_random_flip_left_right(image, s + 1)
            return image, label

        ds = with_seeds(ds, seed).map(aug, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def eval_batches(images: np.ndarray, batch_size: int):
    """Every image exactly once, in order (the last batch may be smaller)."""
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size].astype(np.float32)
