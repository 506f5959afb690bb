"""Writing outputs so that nothing is ever half-written: a file or a folder is made under a
temporary name beside its target and renamed onto it only when complete; and the small JSON
files a scorer leaves beside a checkpoint for a later stage (the stored LFW thresholds)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from common.cli import StageError

# The best LFW thresholds a scorer found, beside the checkpoint it scored ({score name: value}).
THRESHOLDS_FILE = "lfw_thresholds.json"


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                               dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_json_atomic(path: str | os.PathLike, payload, **dumps) -> None:
    """``payload`` as indented JSON (``dumps``: json.dumps options such as sort_keys or default)."""
    write_text_atomic(path, json.dumps(payload, indent=2, **dumps) + "\n")


@contextmanager
def atomic_dir(path: str | os.PathLike):
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` whole
    (a folder already there is removed), on failure it is removed and ``path`` is left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def staged_dir(target: str | os.PathLike, overwrite: bool, owned: Sequence[str] = ("*",)):
    """Yield an empty temporary folder beside ``target``; on success move its files into ``target``.

    Nothing is half-written: a failure removes the temporary folder and leaves ``target`` as it
    was. Files of an earlier run in ``target`` that match ``owned`` (glob patterns) are refused
    unless ``overwrite``, which removes them first, so old and new outputs never mix."""
    target = Path(target)
    old = sorted({p for pattern in owned for p in target.glob(pattern) if p.is_file()}) if target.is_dir() else []
    if old and not overwrite:
        raise StageError(f"{target}: expected an empty output folder, found {len(old)} file(s) of an earlier "
                         f"run (e.g. {old[0].name}); pass --overwrite to replace them")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
        for p in old:
            p.unlink()
        target.mkdir(exist_ok=True)
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                dest = target / p.relative_to(tmp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_beside_checkpoint(prefix: str, name: str, payload: dict, what: str) -> Path | None:
    """``payload`` as JSON file ``name`` in the checkpoint's folder, for a later stage to read (a
    threshold a scorer found); a folder that cannot be written, such as a release on read-only
    storage, is one warning line."""
    path = Path(prefix).parent / name
    try:
        write_json_atomic(path, payload)
    except OSError as err:
        print(f"warning: {path}: {what} not stored ({err.strerror})", file=sys.stderr)
        return None
    return path


def read_beside_checkpoint(prefix: str, name: str) -> tuple[dict | None, Path]:
    """What ``write_beside_checkpoint`` stored for this checkpoint (None when nothing), and where."""
    path = Path(prefix).parent / name
    return (json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None), path


def store_thresholds(prefix: str, thresholds: dict[str, float], **about) -> Path | None:
    """The best LFW thresholds a scorer found ({score name: value}, in that score's units),
    with what they were found on, beside the checkpoint for the `verify` stages."""
    return write_beside_checkpoint(prefix, THRESHOLDS_FILE, {"thresholds": thresholds, **about, "checkpoint": prefix},
                                   "thresholds")


def stored_threshold(prefix: str, score: str) -> tuple[float | None, Path]:
    """The stored threshold of ``score`` for this checkpoint (None when none was stored), and
    the file it is read from."""
    stored, path = read_beside_checkpoint(prefix, THRESHOLDS_FILE)
    value = (stored or {}).get("thresholds", {}).get(score)
    return (float(value) if value is not None else None), path
