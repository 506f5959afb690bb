"""MobileFaceNet data: MS1M TFRecords for training, insightface verification .bin for LFW.

TFRecord schema (the repos' create_tfrecords): `image_raw` JPEG bytes, `label` int64.
Verification .bin: a pickle of (list of 2N JPEG byte strings, list of N issame bools); the
insightface files are Python 2 pickles, read with encoding='bytes'. Pairs are (2k, 2k+1).
Pixels are normalised as (x − 127.5) · 0.0078125 everywhere.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from common.cli import StageError, progress
from common.files import write_bytes_atomic
from common.images import decode_rgb

SCALE = 0.0078125  # 1/128


def normalize(pixels: np.ndarray) -> np.ndarray:
    return (np.asarray(pixels, np.float32) - 127.5) * SCALE


def read_verification_bin(path: str | os.PathLike) -> tuple[list[bytes], np.ndarray]:
    """The encoded images and issame flags of an insightface verification .bin."""
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected an insightface verification .bin, found nothing")
    try:
        with open(p, "rb") as f:
            obj = pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise StageError(f"{p}: expected a pickle of (images, issame), found unreadable data ({err})") from None
    if not (isinstance(obj, (tuple, list)) and len(obj) == 2):
        raise StageError(f"{p}: expected a pickle of (images, issame), found {type(obj).__name__}")
    bins, issame = list(obj[0]), np.asarray(obj[1], dtype=bool).reshape(-1)
    if len(bins) != 2 * len(issame):
        raise StageError(f"{p}: expected 2 images per pair ({2 * len(issame)} for {len(issame)} pairs), "
                         f"found {len(bins)}")
    bins = [bytes(b) if not isinstance(b, bytes) else b for b in bins]  # numpy/bytearray entries
    return bins, issame


def write_verification_bin(path: str | os.PathLike, bins: list[bytes], issame) -> Path:
    """Write (bins, issame) as insightface does (pickle protocol 2, readable by Python 2)."""
    issame = [bool(s) for s in issame]
    if len(bins) != 2 * len(issame):
        raise StageError(f"{path}: expected 2 images per pair, found {len(bins)} for {len(issame)} pairs")
    write_bytes_atomic(path, pickle.dumps((list(bins), issame), protocol=2))
    return Path(path)


def decode_verification_images(bins: list[bytes], path: str | os.PathLike, size: int = 112,
                               bgr: bool = False) -> np.ndarray:
    """Normalised float32 [2N, size, size, 3] images; ``bgr`` reproduces the Ascend port's cv2."""
    out = np.empty((len(bins), size, size, 3), np.float32)
    for i, b in enumerate(progress(bins, desc="decode", unit="img", leave=False)):
        rgb = decode_rgb(b, f"{path}[image {i}]", (size, size))
        out[i] = normalize(rgb[..., ::-1] if bgr else rgb)
    return out


def tfrecord_files(items: list[str]) -> list[str]:
    """--tfrecords as given: files, globs (``ms1m/train-*.tfrecords``) or folders of shards."""
    import glob

    files = []
    for item in items:
        if Path(item).is_dir():
            found = sorted(str(p) for p in Path(item).glob("*.tfrecords"))
        elif any(c in item for c in "*?["):
            found = sorted(glob.glob(item))
        else:
            found = [item]
        if not found:
            raise StageError(f"{item}: expected TFRecord files (convert_recordio writes them), found none")
        files += found
    return files


def tfrecord_dataset(files: list[str], batch_size: int, image_size: int = 112, shuffle: int = 10000,
                     seed: int = 0, flip: bool = True, repeat: bool = True, keep_last_batch: bool = False):
    """Batches of (normalised images, int32 labels) from TFRecords: decode, flip, shuffle.
    Batches run across passes over the files, all full; ``keep_last_batch`` batches each pass on
    its own and keeps its smaller last batch (sirius-ai's per-epoch iterator)."""
    import tensorflow as tf

    from common.tf.augment import random_flip

    for f in files:
        if not Path(f).is_file():
            raise StageError(f"{f}: expected a TFRecord file (convert_recordio writes one), found nothing")
    spec = {"image_raw": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}

    def parse(record):
        ex = tf.io.parse_single_example(record, spec)
        img = tf.io.decode_jpeg(ex["image_raw"], channels=3)  # RGB
        img = tf.ensure_shape(img, (image_size, image_size, 3))
        return (tf.cast(img, tf.float32) - 127.5) * SCALE, tf.cast(ex["label"], tf.int32)

    ds = tf.data.TFRecordDataset(files, num_parallel_reads=tf.data.AUTOTUNE if len(files) > 1 else None)
    if shuffle:
        ds = ds.shuffle(shuffle, seed=seed, reshuffle_each_iteration=True)
    if repeat and not keep_last_batch:
        ds = ds.repeat()
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    if flip:  # new flips on each pass also where the repeat comes after the flip
        ds = random_flip(ds, seed, rerandomize=keep_last_batch)
    if keep_last_batch:
        ds = ds.batch(batch_size)
        return (ds.repeat() if repeat else ds).prefetch(tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def count_records(files: list[str]) -> tuple[int, int]:
    """(images, classes) of TFRecord files, every label parsed (slow on MS1M: prefer the sidecar)."""
    from common.tfrecord import read_records

    n, labels = 0, set()
    for f in files:
        for rec in read_records(f, check_crc=False):  # TensorFlow checks the CRCs when it reads them
            n += 1
            labels.add(_label_of(rec, f))
    return n, (max(labels) + 1 if labels else 0)


def _label_of(record: bytes, path) -> int:
    import tensorflow as tf

    ex = tf.train.Example.FromString(record)
    values = ex.features.feature["label"].int64_list.value
    if len(values) != 1:
        raise StageError(f"{path}: expected one int64 'label' per example, found {list(values)}")
    return int(values[0])
