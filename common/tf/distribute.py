"""tf.distribute for the TensorFlow trainers: the --strategy choice, per-replica loss scaling,
synchronised batch norm, sharded input and chief-only checkpoints.

Every trainer runs its step through ``strategy.run`` whatever the strategy: under the default
strategy that is a plain call, so one code path serves a laptop, a multi-GPU box and a cluster.
Each replica divides its losses by the replica count and the optimizer sums the gradients,
so the update equals the single-device update on the same global batch.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from common.cli import StageError


def make_strategy(name: str, cpu_replicas: int = 1) -> tf.distribute.Strategy:
    """The strategy for --strategy; call it before any TensorFlow op runs (multi_worker starts
    its gRPC server here), after the pure-Python checks of the input."""
    strategy = _strategy(name, cpu_replicas)
    if name != "default":
        logging.getLogger("train").info("strategy %s: %d replica(s) in sync on %d worker(s)%s", name,
                                        strategy.num_replicas_in_sync, num_workers(strategy),
                                        "" if is_chief(strategy) else " (this one is not the chief)")
    return strategy


def _strategy(name: str, cpu_replicas: int) -> tf.distribute.Strategy:
    if cpu_replicas > 1:
        if name == "multi_worker":
            raise StageError("--cpu_replicas: expected 1 with --strategy multi_worker (one CPU replica "
                             f"per worker), found {cpu_replicas}")
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
        except RuntimeError:
            raise StageError("--cpu_replicas: expected to run before TensorFlow starts its devices, "
                             "found them started (run the trainer in a fresh process)") from None
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = None
        if cpu_replicas > 1:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        config = os.environ.get("TF_CONFIG")
        if not config:
            raise StageError("--strategy multi_worker: expected the cluster in TF_CONFIG "
                             "(see README, 'Scaling out'), found no TF_CONFIG")
        try:
            task = json.loads(config)["task"]
            task["type"], task["index"]
        except (ValueError, KeyError, TypeError):
            raise StageError(f"TF_CONFIG: expected JSON with cluster and task {{type, index}}, found {config}") \
                from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise StageError(f"--strategy: expected one of default, mirrored, multi_worker, found {name}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the one worker that writes checkpoints, logs and configs (task chief, else worker 0)."""
    resolver = strategy.cluster_resolver
    if resolver is None or resolver.task_type is None:
        return True
    jobs = resolver.cluster_spec().jobs
    if "chief" in jobs:
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and resolver.task_id == 0


def summary_writer(log_dir: str, strategy: tf.distribute.Strategy):
    """TensorBoard writer on the chief, a no-op writer elsewhere."""
    return tf.summary.create_file_writer(log_dir) if is_chief(strategy) else tf.summary.create_noop_writer()


def sync_batch_norm(model: tf.keras.Model, strategy: tf.distribute.Strategy) -> None:
    """With several replicas, batch norm takes its statistics over the global batch, as on one
    device (Keras reads the flag at call time)."""
    if strategy.num_replicas_in_sync > 1:
        for layer in model._flatten_layers():
            if isinstance(layer, tf.keras.layers.BatchNormalization):
                layer.synchronized = True


def distribute_dataset(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset,
                       shard_by_file: bool = False):
    """Each global batch split across the replicas; across workers the input is sharded by
    file (TFRecord shards, when there are enough) or by element."""
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    options.experimental_distribute.auto_shard_policy = policy.FILE if shard_by_file else policy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def num_workers(strategy: tf.distribute.Strategy) -> int:
    resolver = strategy.cluster_resolver
    if resolver is None or resolver.task_type is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return sum(len(spec.get(job, [])) for job in ("chief", "worker"))


def sum_over_replicas(strategy: tf.distribute.Strategy, values):
    """Per-replica outputs (each already divided by the replica count) summed to global values."""
    return tf.nest.map_structure(lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None), values)


def all_gather(tensor: tf.Tensor, strategy: tf.distribute.Strategy) -> tf.Tensor:
    """In replica context: the global batch's rows of ``tensor`` (differentiable)."""
    if strategy.num_replicas_in_sync == 1:
        return tensor
    return tf.distribute.get_replica_context().all_gather(tensor, axis=0)


def check_same_on_all_workers(strategy: tf.distribute.Strategy, value: int, what: str) -> None:
    """Fail on one line when workers disagree (a worker that could not see the checkpoint would
    otherwise wait forever in the first all-reduce)."""
    if num_workers(strategy) == 1:
        return
    # ReduceOp has only SUM and MEAN: the values agree iff n·Σv² = (Σv)², the same verdict everywhere.
    per_replica = strategy.run(lambda: tf.constant([float(value), float(value) ** 2, 1.0], tf.float64))
    total, squares, n = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()
    if abs(n * squares - total ** 2) > 1e-6 * max(1.0, total ** 2):
        raise StageError(f"{what}: expected the same value on every worker, found {value} here and a mean of "
                         f"{total / n:g} (with --resume every worker must see the chief's checkpoint folder)")


class CheckpointWriter:
    """A CheckpointManager that writes into ``run_dir`` on the chief and into a throwaway folder
    on the other workers: every worker takes part in a save, only the chief's copy stays."""

    def __init__(self, checkpoint: tf.train.Checkpoint, run_dir: Path | None, strategy, max_to_keep: int = 3):
        self.chief = is_chief(strategy)
        self.directory = Path(run_dir) if self.chief else Path(tempfile.mkdtemp(prefix="worker-ckpt-"))
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.directory), max_to_keep=max_to_keep)
        # What to restore: the chief's newest checkpoint, also on the other workers (--resume
        # needs the run folder on storage every worker reads).
        self._restore_from = tf.train.latest_checkpoint(str(run_dir)) if run_dir else None

    @property
    def latest_checkpoint(self) -> str | None:
        return (self.manager.latest_checkpoint if self.chief else None) or self._restore_from

    def save(self, checkpoint_number: int) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)  # a worker's folder went after its last save
        path = self.manager.save(checkpoint_number=checkpoint_number)
        if not self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)
        return path


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy, flag: str) -> None:
    """A global batch must split evenly across the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise StageError(f"{flag}: expected a multiple of the {replicas} replicas (the batch is global), "
                         f"found {batch_size}")


def check_jit(jit: bool, strategy: tf.distribute.Strategy) -> None:
    """XLA compiles the whole step for one device; with replicas it fails deep in TensorFlow."""
    if jit and strategy.num_replicas_in_sync > 1:
        raise StageError(f"--jit: expected one replica (XLA compiles the step for one device), found "
                         f"{strategy.num_replicas_in_sync} replicas; drop --jit or use --strategy default")
