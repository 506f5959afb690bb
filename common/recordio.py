"""InsightFace MXNet RecordIO (``train.rec`` + ``train.idx``) in pure Python.

mxnet does not import with numpy 2, so the format is read and written here. A record is:
uint32 magic 0xced7230a, uint32 (cflag << 29 | length), payload padded to 4 bytes. The payload
is an IRHeader ``struct 'IfQQ'`` (flag, label, id, id2), ``flag`` extra float32 labels when
flag > 0, then the encoded image. Record 0 is a header whose label holds
``[first identity record, end]``; image records are keys 1 .. label[0]-1.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.files import atomic_path

MAGIC = 0xCED7230A
_HEADER = struct.Struct("<IfQQ")


@dataclass
class IRHeader:
    flag: int
    label: float | np.ndarray
    id: int
    id2: int


def pack(header: IRHeader, payload: bytes) -> bytes:
    """IRHeader + payload; an array label is stored as ``flag`` extra float32 values."""
    label = np.asarray(header.label, dtype=np.float32)
    if label.ndim == 0:
        return _HEADER.pack(0, float(label), header.id, header.id2) + payload
    return _HEADER.pack(label.size, 0.0, header.id, header.id2) + label.tobytes() + payload


def unpack(record: bytes) -> tuple[IRHeader, bytes]:
    flag, label, id1, id2 = _HEADER.unpack_from(record)
    rest = record[_HEADER.size:]
    if flag > 0:
        labels = np.frombuffer(rest[: 4 * flag], dtype=np.float32).copy()
        return IRHeader(flag, labels, id1, id2), rest[4 * flag:]
    return IRHeader(flag, label, id1, id2), rest


def _frame(payload: bytes) -> bytes:
    if len(payload) >= 1 << 29:
        raise ValueError("record too large for RecordIO")
    pad = (-len(payload)) % 4
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\x00" * pad


def write_indexed(rec_path: str | os.PathLike, idx_path: str | os.PathLike,
                  records: list[tuple[int, bytes]]) -> None:
    """Write (key, packed payload) records and the ``key\\toffset`` index, atomically."""
    lines, offset = [], 0
    with atomic_path(rec_path) as tmp, open(tmp, "wb") as f:
        for key, payload in records:
            framed = _frame(payload)
            lines.append(f"{key}\t{offset}\n")
            f.write(framed)
            offset += len(framed)
    with atomic_path(idx_path) as tmp:
        Path(tmp).write_text("".join(lines))


class IndexedRecordReader:
    """Random access to a .rec through its .idx (what ``mx.recordio.MXIndexedRecordIO`` does)."""

    def __init__(self, idx_path: str | os.PathLike, rec_path: str | os.PathLike):
        self.rec_path = Path(rec_path)
        for p in (Path(idx_path), self.rec_path):
            if not p.is_file():
                raise StageError(f"{p}: expected a RecordIO file, found nothing")
        self.index: dict[int, int] = {}
        for n, line in enumerate(Path(idx_path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                key, pos = line.split("\t")
                self.index[int(key)] = int(pos)
            except ValueError:
                raise StageError(f"{idx_path}:{n}: expected 'key<TAB>offset', found '{line}'") from None
        self._f = open(self.rec_path, "rb")

    def keys(self) -> list[int]:
        return sorted(self.index)

    def read_idx(self, key: int) -> bytes:
        if key not in self.index:
            raise StageError(f"{self.rec_path}: expected record key {key} in the index, found none")
        self._f.seek(self.index[key])
        head = self._f.read(8)
        if len(head) < 8:
            raise StageError(f"{self.rec_path}: record {key} is truncated (offset {self.index[key]})")
        magic, lrec = struct.unpack("<II", head)
        if magic != MAGIC:
            raise StageError(f"{self.rec_path}: expected RecordIO magic 0xced7230a at record {key}, "
                             f"found {magic:#x}")
        cflag, length = lrec >> 29, lrec & ((1 << 29) - 1)
        if cflag != 0:
            raise StageError(f"{self.rec_path}: record {key} is split (cflag {cflag}); not supported")
        data = self._f.read(length)
        if len(data) != length:
            raise StageError(f"{self.rec_path}: record {key} is truncated: expected {length} bytes, "
                             f"found {len(data)}")
        return data

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def image_keys(reader: IndexedRecordReader) -> list[int]:
    """Keys of the image records, following insightface's header convention."""
    header, _ = unpack(reader.read_idx(0))
    if header.flag > 0:
        return list(range(1, int(np.asarray(header.label).reshape(-1)[0])))
    return reader.keys()
