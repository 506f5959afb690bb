"""Convert InsightFace MXNet RecordIO (train.rec + train.idx) into one TFRecord file.

    python -m mobilefacenet.convert_recordio --data_dir faces_ms1m_112x112 --output ms1m.tfrecords

Pure Python (no MXNet): record 0's header gives the image-record range, each image record's
IRHeader the label, the payload the JPEG bytes, copied as-is into `image_raw` (int64 `label`).
Images are shuffled at conversion (--no_shuffle keeps the identity order of the .rec, which a
small tf.data shuffle buffer cannot undo). A sidecar FILE.json records images and classes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, output_file, parser, progress, write_text_atomic

IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # what insightface packs: JPEG, sometimes PNG


def main(argv=None) -> dict:
    p = parser("mobilefacenet convert_recordio", __doc__.strip().splitlines()[0])
    p.add_argument("--data_dir", required=True, help="folder with train.rec and train.idx")
    p.add_argument("--output", type=output_file, required=True, help="output .tfrecords file")
    p.add_argument("--no_shuffle", action="store_true", help="keep the .rec order (grouped by identity)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    import tensorflow as tf  # its C++ TFRecord writer (CRC32C) is far faster than pure Python

    from common import recordio, tfrecord
    from common.cli import atomic_path

    data = Path(a.data_dir)
    with recordio.IndexedRecordReader(data / "train.idx", data / "train.rec") as reader:
        keys = recordio.image_keys(reader)
        if not keys:
            raise StageError(f"{data / 'train.rec'}: expected image records, found none")
        if not a.no_shuffle:
            keys = list(np.random.default_rng(a.seed).permutation(keys))
        labels: set[int] = set()

        def examples():
            for key in progress(keys, desc="convert", unit="img"):
                header, jpeg = recordio.unpack(reader.read_idx(int(key)))
                if not jpeg:
                    raise StageError(f"{data / 'train.rec'}: record {key} has no image bytes")
                if not jpeg.startswith(IMAGE_SIGNATURES):
                    raise StageError(f"{data / 'train.rec'}: expected a JPEG or PNG payload in record {key}, found "
                                     f"bytes starting {jpeg[:4].hex()}")
                label = int(np.asarray(header.label).reshape(-1)[0])
                labels.add(label)
                yield tfrecord.encode_example({"image_raw": jpeg, "label": label})

        n = 0
        with atomic_path(a.output) as tmp, tf.io.TFRecordWriter(str(tmp)) as writer:
            for example in examples():
                writer.write(example)
                n += 1
    classes = max(labels) + 1
    write_text_atomic(Path(a.output).with_suffix(".json"),
                      json.dumps({"images": n, "classes": classes, "source": str(data)}, indent=2) + "\n")
    print(f"wrote {n} images of {classes} identities to {a.output}"
          f"{'' if a.no_shuffle else ' (shuffled)'}")
    return {"images": n, "classes": classes, "path": Path(a.output)}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
