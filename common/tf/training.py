"""Training helpers shared by the TensorFlow trainers: lr schedule files, run folders,
checkpoints with resume, and the NaN guard."""

from __future__ import annotations

import json
import logging
import math
import os
from datetime import datetime
from pathlib import Path

import tensorflow as tf

from common.cli import StageError
from common.files import atomic_dir, write_json_atomic


def read_lr_schedule(path: str | os.PathLike) -> list[tuple[int, float]]:
    """Parse ``epoch: lr`` lines (``#`` comments allowed) into a sorted list."""
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected a learning-rate schedule file, found nothing")
    entries = []
    for n, raw in enumerate(p.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            epoch, lr = line.split(":")
            entries.append((int(epoch), float(lr)))
        except ValueError:
            raise StageError(f"{p}:{n}: expected 'epoch: learning_rate', found '{raw}'") from None
    if not entries:
        raise StageError(f"{p}: expected at least one 'epoch: lr' line, found none")
    return sorted(entries)


def lr_for_epoch(schedule: list[tuple[int, float]], epoch: int) -> float:
    """The lr of the last entry whose epoch is <= ``epoch`` (the last entry beyond the table)."""
    lr = schedule[0][1]
    for e, value in schedule:
        if e <= epoch:
            lr = value
    return lr


def new_run_dir(base: str | os.PathLike) -> Path:
    """A timestamped run folder (``20260122-153012``), facenet-style."""
    path = Path(base) / datetime.now().strftime("%Y%m%d-%H%M%S")
    while path.exists():
        path = Path(str(path) + "_1")
    path.mkdir(parents=True)
    return path


def latest_run_dir(base: str | os.PathLike) -> Path | None:
    """The newest run folder under ``base`` that holds a checkpoint, or None."""
    base = Path(base)
    if not base.is_dir():
        return None
    runs = sorted(d for d in base.iterdir() if d.is_dir() and tf.train.latest_checkpoint(str(d)))
    return runs[-1] if runs else None


def run_folder(base: str | os.PathLike, resume: bool, chief: bool = True) -> Path | None:
    """The run folder: with ``resume`` the newest one under ``base`` that has a checkpoint, else a
    new timestamped one. Workers other than the chief never create one (None)."""
    run_dir = latest_run_dir(base) if resume else None
    if resume and run_dir is None:
        logging.getLogger("train").info("--resume: no checkpoint under %s, starting a new run", base)
    if run_dir is None and chief:
        run_dir = new_run_dir(base)
    return run_dir


def write_config(run_dir: Path, config: dict) -> None:
    write_json_atomic(run_dir / "config.json", config, sort_keys=True)


def read_config(path: str | os.PathLike) -> tuple[dict, str]:
    """Config and checkpoint prefix from a run folder, a sub-folder of one (``<run>/best``)
    or a checkpoint prefix (``.../ckpt-7``)."""
    p = Path(path)
    run_dir = p if p.is_dir() else p.parent
    prefix = tf.train.latest_checkpoint(str(run_dir)) if p.is_dir() else str(p)
    if not prefix or not Path(prefix + ".index").is_file():
        raise StageError(f"{path}: expected a run folder with a TF2 checkpoint or a checkpoint "
                         f"prefix (ckpt-N), found none")
    cfg = next((d / "config.json" for d in (run_dir, run_dir.parent) if (d / "config.json").is_file()), None)
    if cfg is None:
        raise StageError(f"{run_dir / 'config.json'}: expected the training config beside the checkpoint, "
                         f"found nothing")
    return json.loads(cfg.read_text()), prefix


def write_run(output_dir: str | os.PathLike, config: dict, step: int, overwrite: bool = False, **objects) -> str:
    """One of our run folders holding ``objects`` (``model=...``) as checkpoint ``ckpt-<step>`` plus
    config.json, written beside the target and renamed onto it. Returns the checkpoint prefix."""
    out = Path(output_dir)
    if out.is_file():
        raise StageError(f"{out}: expected a folder for the run, found a file")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise StageError(f"{out}: expected a new or empty folder for the run, found files (--overwrite replaces them)")
    with atomic_dir(out) as tmp:
        # CheckpointManager writes the `checkpoint` file with relative paths: the folder can move.
        saved = tf.train.CheckpointManager(tf.train.Checkpoint(**objects), str(tmp), max_to_keep=1).save(step)
        write_config(tmp, config)
    return str(out / Path(saved).name)


def restore_objects(prefix: str, what: str, **objects) -> None:
    """Restore ``objects`` (``model=...``) from one of our checkpoints; every weight must be there
    and fit, or one line names the checkpoint and what it lacks."""
    try:
        tf.train.Checkpoint(**objects).restore(prefix).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as err:
        detail = " ".join(str(err).split())
        raise StageError(f"{prefix}: expected the weights of {what}, found a checkpoint that does not "
                         f"match ({detail[:300]})") from None


def check_finite(loss: float, step: int, manager: tf.train.CheckpointManager | None) -> None:
    """NaN guard: stop with one line, leaving the last good checkpoint as it is."""
    if not math.isfinite(loss):
        last = manager.latest_checkpoint if manager else None
        raise StageError(f"loss became {loss} at step {step}; training stopped, last good "
                         f"checkpoint: {last or 'none yet'}")
