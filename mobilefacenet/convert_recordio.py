"""Convert InsightFace MXNet RecordIO (train.rec + train.idx) into TFRecord files.

    python -m mobilefacenet.convert_recordio --data_dir faces_ms1m_112x112 --output ms1m.tfrecords
    python -m mobilefacenet.convert_recordio --data_dir faces_ms1m_112x112 --output ms1m/train.tfrecords \
        --num_shards 64 --workers 8           # ms1m/train-00000-of-00064.tfrecords ...

Pure Python (no MXNet): record 0's header gives the image-record range, each image record's
IRHeader the label, the payload the JPEG bytes, copied as-is into `image_raw` (int64 `label`).
Images are shuffled at conversion (--no_shuffle keeps the identity order of the .rec, which a
small tf.data shuffle buffer cannot undo) and dealt round-robin to --num_shards files, so every
shard holds an even, mixed share; --workers processes write disjoint shards side by side. Each
file gets a sidecar FILE.json (images, classes) that the trainer sizes epochs with; with shards,
OUTPUT.json sums them up. Multi-worker training gives each worker whole shards.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from common.cli import StageError, output_file, parser, positive_int, progress
from common.files import write_json_atomic

IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # what insightface packs: JPEG, sometimes PNG


def shard_paths(output: str | Path, num_shards: int) -> list[Path]:
    """``train.tfrecords`` itself for one shard, else ``train-00000-of-00004.tfrecords`` ..."""
    out = Path(output)
    if num_shards == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{k:05d}-of-{num_shards:05d}{out.suffix}") for k in range(num_shards)]


def write_shard(data_dir: str, keys: list[int], path: str, show_progress: bool = False) -> dict:
    """One TFRecord file (written atomically) and its sidecar from the given .rec keys."""
    import tensorflow as tf  # its C++ TFRecord writer (CRC32C) is far faster than pure Python

    from common import recordio, tfrecord
    from common.files import atomic_path

    data = Path(data_dir)
    labels: set[int] = set()
    with recordio.IndexedRecordReader(data / "train.idx", data / "train.rec") as reader, \
            atomic_path(path) as tmp, tf.io.TFRecordWriter(str(tmp)) as writer:
        for key in progress(keys, desc="convert", unit="img", disable=None if show_progress else True):
            header, jpeg = recordio.unpack(reader.read_idx(int(key)))
            if not jpeg:
                raise StageError(f"{data / 'train.rec'}: record {key} has no image bytes")
            if not jpeg.startswith(IMAGE_SIGNATURES):
                raise StageError(f"{data / 'train.rec'}: expected a JPEG or PNG payload in record {key}, found "
                                 f"bytes starting {jpeg[:4].hex()}")
            label = int(np.asarray(header.label).reshape(-1)[0])
            labels.add(label)
            writer.write(tfrecord.encode_example({"image_raw": jpeg, "label": label}))
    info = {"images": len(keys), "classes": max(labels) + 1 if labels else 0, "source": str(data)}
    write_json_atomic(Path(path).with_suffix(".json"), info)
    return info


def _write_shards(job: tuple[str, list[tuple[list[int], str]]]) -> list[tuple[str, dict]]:
    """A worker process's share: several whole shards, one after the other."""
    data_dir, shards = job
    return [(path, write_shard(data_dir, keys, path)) for keys, path in shards]


def main(argv=None) -> dict:
    p = parser("mobilefacenet convert_recordio", __doc__.strip().splitlines()[0])
    p.add_argument("--data_dir", required=True, help="folder with train.rec and train.idx")
    p.add_argument("--output", type=output_file, required=True,
                   help="output .tfrecords file (with --num_shards: the name the shards are numbered from)")
    p.add_argument("--num_shards", type=positive_int, default=1, help="TFRecord files to deal the images into")
    p.add_argument("--workers", type=positive_int, default=1, help="processes writing shards at the same time")
    p.add_argument("--no_shuffle", action="store_true", help="keep the .rec order (grouped by identity)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    from common import recordio

    data = Path(a.data_dir)
    with recordio.IndexedRecordReader(data / "train.idx", data / "train.rec") as reader:
        keys = recordio.image_keys(reader)
    if not keys:
        raise StageError(f"{data / 'train.rec'}: expected image records, found none")
    if a.num_shards > len(keys):
        raise StageError(f"--num_shards: expected at most the {len(keys)} images, found {a.num_shards}")
    if not a.no_shuffle:
        keys = [int(k) for k in np.random.default_rng(a.seed).permutation(keys)]
    paths = shard_paths(a.output, a.num_shards)
    shards = [(keys[k::a.num_shards], str(path)) for k, path in enumerate(paths)]  # round-robin: even shares
    started = time.perf_counter()
    workers = min(a.workers, a.num_shards)
    if workers == 1:
        infos = [write_shard(str(data), k, path, show_progress=True) for k, path in shards]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        jobs = [(str(data), shards[w::workers]) for w in range(workers)]
        # spawn: each worker starts its own TensorFlow (forking a process that holds one is unsafe)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            by_path = dict(item for share in progress(pool.map(_write_shards, jobs), total=workers, desc="workers",
                                                      unit="worker") for item in share)
        infos = [by_path[str(path)] for path in paths]
    seconds = time.perf_counter() - started
    n, classes = sum(i["images"] for i in infos), max(i["classes"] for i in infos)
    if a.num_shards > 1:
        write_json_atomic(Path(a.output).with_suffix(".json"),
                          {"images": n, "classes": classes, "source": str(data),
                           "shards": [p.name for p in paths], "images_per_shard": [i["images"] for i in infos]})
    where = paths[0] if a.num_shards == 1 else f"{a.num_shards} shards {paths[0].name} ... {paths[-1].name}"
    print(f"wrote {n} images of {classes} identities to {where}{'' if a.no_shuffle else ' (shuffled)'}; "
          f"{n / seconds:.0f} images/s with {workers} worker(s)")
    return {"images": n, "classes": classes, "path": Path(a.output), "shards": paths, "images_per_second": n / seconds}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
