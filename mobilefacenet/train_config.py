"""What `mobilefacenet train_nets` reads: the flags' names, types and defaults live in
train_nets.py's parser; this is the typed record the trainer takes and config.json holds."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import RunSettings


@dataclass(kw_only=True)
class TrainConfig(RunSettings):
    recipe: str
    tfrecords: list[str]  # resolved files (globs and folders expanded)
    eval_datasets: list[str]
    best_on: str | None
    models_dir: str
    logs_dir: str
    variant: str
    embedding_size: int
    loss: str
    margin_scale: float | None
    margin: float | None
    num_classes: int | None
    max_epoch: int
    steps_per_epoch: int | None
    max_steps_per_epoch: int
    train_batch_size: int
    lr_values: list[float]
    lr_boundaries: list[int]  # epoch indices after which the next value starts
    constant_lr: bool
    adam_epsilon: float
    weight_decay: float
    prelogit_norm_factor: float
    prelogit_norm_eps: float
    bn_decay: float
    shuffle_buffer: int
    no_flip: bool
    keep_last_batch: bool
    eval_batch_size: int
    flip: bool
    mixed_precision: bool
    jit: bool
    pretrained_model: str | None
    restore_head: bool
