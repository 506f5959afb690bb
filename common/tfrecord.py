"""TFRecord files of ``tf.train.Example`` protos, written and read without TensorFlow.

Framing: uint64 length, uint32 masked CRC32C of the length, data, uint32 masked CRC32C of
the data. The Example proto is encoded by hand (only bytes and int64 features are needed).
"""

from __future__ import annotations

import os
import struct

from common.cli import StageError
from common.files import atomic_path


def _crc_table():
    poly, table = 0x82F63B78, []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 two's complement, as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_example(features: dict[str, bytes | int | list[int]]) -> bytes:
    """Serialize an Example with bytes (BytesList) and int (Int64List) features."""
    entries = b""
    for key in sorted(features):
        value = features[key]
        if isinstance(value, bytes):
            feature = _field(1, _field(1, value))                       # bytes_list
        else:
            ints = value if isinstance(value, (list, tuple)) else [value]
            packed = b"".join(_varint(int(v)) for v in ints)
            feature = _field(3, _field(1, packed))                      # int64_list, packed
        entries += _field(1, _field(1, key.encode()) + _field(2, feature))
    return _field(1, entries)


def write_records(path: str | os.PathLike, records) -> int:
    """Write serialized records to a TFRecord file atomically; returns the count."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for data in records:
            length = struct.pack("<Q", len(data))
            f.write(length + struct.pack("<I", masked_crc(length)) + data
                    + struct.pack("<I", masked_crc(data)))
            n += 1
    return n


def count_frames(path: str | os.PathLike) -> int:
    """Records in a TFRecord file, counted from the length headers without reading the payloads
    (MS1M's 5.8M JPEGs are counted in seconds); a file that ends mid-record is an error."""
    size, n, offset = os.path.getsize(path), 0, 0
    with open(path, "rb") as f:
        while offset < size:
            head = f.read(12)
            if len(head) < 12 or struct.unpack("<I", head[8:])[0] != masked_crc(head[:8]):
                raise StageError(f"{path}: expected a TFRecord header at byte {offset}, found "
                                 f"{'the end of the file' if len(head) < 12 else 'a corrupt one'}")
            offset += 12 + struct.unpack("<Q", head[:8])[0] + 4
            f.seek(offset)
            n += 1
    if offset != size:
        raise StageError(f"{path}: expected whole TFRecords, found the last one cut at byte {size}")
    return n


def read_records(path: str | os.PathLike, check_crc: bool = True):
    """Yield the raw records of a TFRecord file, checking framing and CRCs."""
    with open(path, "rb") as f:
        while True:
            head = f.read(12)
            if not head:
                return
            if len(head) < 12:
                raise StageError(f"{path}: truncated TFRecord header")
            length = struct.unpack("<Q", head[:8])[0]
            data = f.read(length)
            tail = f.read(4)
            if len(data) != length or len(tail) != 4:
                raise StageError(f"{path}: truncated TFRecord: expected {length} bytes, found {len(data)}")
            if check_crc and (struct.unpack("<I", head[8:])[0] != masked_crc(head[:8])
                              or struct.unpack("<I", tail)[0] != masked_crc(data)):
                raise StageError(f"{path}: TFRecord CRC mismatch (corrupt file)")
            yield data
