"""What `covpoolfer train` reads: the flags' names, types and defaults live in train.py's parser;
this is the typed record the trainer takes and config.json holds."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import RunSettings

OPTIMIZERS = ("ADAGRAD", "ADADELTA", "ADAM", "RMSPROP", "MOM")
CENTER_UPDATES = ("alfa", "optimizer", "frozen")


@dataclass(kw_only=True)
class TrainConfig(RunSettings):
    recipe: str
    data_dir: str
    val_dir: str | None
    models_base_dir: str
    logs_base_dir: str
    image_size: int
    model_def: str
    embedding_size: int | None
    optimizer: str
    adam_epsilon: float
    learning_rate: float  # -1: the schedule file's
    learning_rate_schedule_file: str
    max_nrof_epochs: int
    epoch_size: int
    batch_size: int
    keep_probability: float
    ignore_keep_probability: bool
    weight_decay: float
    center_loss_factor: float
    center_loss_alfa: float
    center_update: str
    no_augment: bool
    no_shuffle: bool
    bn_decay: float
    eig_floor: float
    pretrained_model: str | None
    jit: bool


@dataclass(kw_only=True)
class TemporalTrainConfig(RunSettings):
    """What `covpoolfer tempPoolTrain` reads."""
    recipe: str
    data_dir: str
    models_base_dir: str
    logs_base_dir: str
    optimizer: str
    adam_epsilon: float
    learning_rate: float  # -1: the schedule file's
    learning_rate_schedule_file: str
    max_nrof_epochs: int
    epoch_size: int
    batch_size: int
    weight_decay: float
    center_loss_factor: float
    center_loss_alfa: float
    center_update: str
    no_augment: bool
    no_shuffle: bool
    bn_decay: float
    pretrained_model: str | None
