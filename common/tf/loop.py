"""The training loop of the TensorFlow trainers: run folder and config, seeding, checkpoints with
--resume, then epochs of compiled steps with the learning rate, a progress bar, the NaN guard,
TensorBoard scalars, one log line per epoch and an eval hook, under any tf.distribute strategy.

A trainer keeps only its model, its step and its eval:

    run = start_run(config, models_dir, logs_dir, batch_size)     # config: a RunSettings dataclass
    ... build the model and optimizer under run.strategy.scope() ...
    manager = resume(tf.train.Checkpoint(model=model, ..., counter=counter), counter, run)
    fit(step, batches, Schedule(...), run, manager, counter, optimizer.learning_rate)
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.cli import StageError, first_line, progress
from common.config import RunSettings, as_record
from common.tf.distribute import (
    CheckpointWriter,
    check_global_batch,
    check_same_on_all_workers,
    is_chief,
    make_strategy,
    summary_writer,
)
from common.tf.training import check_finite, run_folder, write_config

log = logging.getLogger("train")

_new_runs: list[Path] = []  # run folders this process created, until their first checkpoint


@contextmanager
def no_empty_run_on_failure():
    """Around a trainer: a run folder it created is removed again if training fails before the
    first checkpoint (it would hold only config.json and be taken for a run by --resume's search)."""
    try:
        yield
    except BaseException:
        for run_dir in _new_runs:
            if run_dir.is_dir() and not any(run_dir.glob("*.index")):
                shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        _new_runs.clear()


@dataclass
class Run:
    """A started run: its strategy, its folder (None on a worker that is not the chief) and the
    folder of its TensorBoard logs."""
    strategy: tf.distribute.Strategy
    run_dir: Path | None
    log_dir: str


def start_run(config: RunSettings, models_dir: str, logs_dir: str, batch_size: int,
              batch_flag: str = "the batch size", **facts) -> Run:
    """Strategy (before any other TensorFlow work), seed, and the run folder under ``models_dir``
    (new, or the newest with a checkpoint under --resume) with config.json: the trainer's config
    and the ``facts`` it found in the data (class count, ...); only the chief writes. The logs go
    to ``logs_dir/<run folder name>``."""
    strategy = make_strategy(config.strategy, config.cpu_replicas)
    check_global_batch(batch_size, strategy, batch_flag)
    tf.keras.utils.set_random_seed(config.seed)
    chief = is_chief(strategy)
    run_dir = run_folder(models_dir, config.resume, chief)
    if chief:
        if not any(run_dir.glob("*.index")):
            _new_runs.append(run_dir)
        write_config(run_dir, {**as_record(config), **facts})
    return Run(strategy, run_dir, str(Path(logs_dir) / (run_dir.name if run_dir else "worker")))


@dataclass
class Schedule:
    """How far a trainer goes and how: ``total_steps`` in epochs of ``epoch_size`` steps (the last
    may be shorter); checkpoints are numbered by ``unit``s of steps (epoch_size for epochs, 1 for
    steps); ``lr_at(global_step)`` is each step's learning rate; ``title(steps_done)`` starts the
    epoch's log line (``Epoch 3/12``, ``step 2000/3000``)."""
    total_steps: int
    epoch_size: int
    unit: int
    lr_at: Callable[[int], float]
    title: Callable[[int], str]


def resume(checkpoint: tf.train.Checkpoint, counter: tf.Variable, run: Run,
           pretrained: Callable[[], str] | None = None, unit: str = "epoch") -> CheckpointWriter:
    """The checkpoint writer of the run, restored from its newest readable checkpoint when there
    is one (else ``pretrained()`` loads starting weights and returns where from). A save cut
    short (``ckpt-N_temp``) is removed, and a damaged newest checkpoint is skipped with one line
    for the one before. Every worker must have restored the same counter (``unit``s done)."""
    run_dir, strategy = run.run_dir, run.strategy
    if run_dir is not None and is_chief(strategy):
        for temp in Path(run_dir).glob("*_temp*"):
            log.warning("removing %s, a checkpoint save that was interrupted", temp)
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink()
    manager = CheckpointWriter(checkpoint, run_dir, strategy)
    if manager.latest_checkpoint:
        latest = manager.latest_checkpoint  # newest first, then the older ones the manager keeps
        candidates = [latest] + [c for c in reversed(manager.manager.checkpoints) if c != latest]
        for k, prefix in enumerate(candidates):
            try:
                checkpoint.restore(prefix).expect_partial()
                break
            except Exception as err:  # truncated data raise OpError, ValueError or IndexError by where it ends
                first = first_line(err)
                if k == len(candidates) - 1:
                    raise StageError(f"{prefix}: expected a readable checkpoint to resume from, found a damaged "
                                     f"one ({first}); no earlier checkpoint is left") from None
                log.warning("%s: expected a readable checkpoint, found a damaged one (%s); resuming from %s",
                            prefix, first, candidates[k + 1])
        log.info("resumed from %s (%s %d)", prefix, unit, int(counter.numpy()))
    elif pretrained is not None:
        log.info("starting weights from %s", pretrained())
    check_same_on_all_workers(strategy, int(counter.numpy()), f"restored {unit}")
    return manager


def fit(step: Callable, batches: Iterator, schedule: Schedule, run: Run, manager: CheckpointWriter,
        counter: tf.Variable, lr: tf.Variable, tags: dict[str, str] | None = None,
        evaluate: Callable[[int], tuple[dict[str, float], str]] | None = None) -> dict:
    """Run ``step`` from ``counter`` (in the schedule's units) to the schedule's end, with a
    checkpoint after each epoch.

    ``step(x, y)`` returns {name: scalar}, "loss" among them; the epoch means go to the log line
    as ``name value`` and to TensorBoard under ``tags[name]`` (default: the name). The learning
    rate is set before each step. ``evaluate(counter)`` runs after each epoch, before its
    checkpoint, and returns scalars for TensorBoard and text for the line.
    Returns the figures of the last epoch run: steps done, checkpoint, epoch means, eval scalars.
    """
    unit, total_steps, epoch_size = schedule.unit, schedule.total_steps, schedule.epoch_size
    lr_at, title = schedule.lr_at, schedule.title
    tags = tags or {}
    writer = summary_writer(run.log_dir, run.strategy)
    done = int(counter.numpy()) * unit
    result = {"steps": done, "checkpoint": manager.latest_checkpoint}
    if done >= total_steps:
        log.info("%s already holds %s; nothing to do", manager.directory, title(done))
    while done < total_steps:
        count = min(epoch_size, total_steps - done)
        values: dict[str, list[float]] = {}
        times = []
        bar = progress(range(count), desc=title(done + count), unit="step", leave=False)
        for i in bar:
            lr.assign(lr_at(done + i))
            x, y = next(batches)
            t0 = time.perf_counter()
            out = {name: float(v) for name, v in step(x, y).items()}
            times.append(time.perf_counter() - t0)
            check_finite(out["loss"], done + i, manager)
            for name, v in out.items():
                values.setdefault(name, []).append(v)
            bar.set_postfix(loss=f"{out['loss']:.3f}")
        done += count
        counter.assign(done // unit)
        means = {name: float(np.mean(v)) for name, v in values.items()}
        seconds = float(np.mean(times[1:] if len(times) > 1 else times))
        rate = float(lr.numpy())
        scalars, text = evaluate(done // unit) if evaluate else ({}, "")
        path = manager.save(checkpoint_number=done // unit)
        with writer.as_default(step=done // unit):
            for name, v in means.items():
                tf.summary.scalar(tags.get(name, name), v)
            tf.summary.scalar("learning_rate", rate)
            tf.summary.scalar("seconds_per_step", seconds)
            for name, v in scalars.items():
                tf.summary.scalar(name, v)
        line = "  ".join(f"{name} {v:.4f}" for name, v in means.items())
        log.info("%s  %s  lr %g  %.3f s/step%s  (%s)", title(done), line, rate, seconds, text, path)
        result = {"steps": done, "checkpoint": path, **means, **scalars, "learning_rate": rate,
                  "seconds_per_step": seconds}
    writer.flush()
    return result
