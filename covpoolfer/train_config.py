"""What `covpoolfer train` and `tempPoolTrain` read: the flags' names, types and defaults live in
the stages' parsers; these are the typed records the trainers take and config.json holds."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import RunSettings

OPTIMIZERS = ("ADAGRAD", "ADADELTA", "ADAM", "RMSPROP", "MOM")
CENTER_UPDATES = ("alfa", "optimizer", "frozen")


@dataclass(kw_only=True)
class CovPoolTraining(RunSettings):
    """What both CovPoolFER trainers read (the image network's `train`, the temporal `tempPoolTrain`)."""
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


@dataclass(kw_only=True)
class TrainConfig(CovPoolTraining):
    """What `covpoolfer train` reads besides the shared settings."""
    val_dir: str | None
    image_size: int
    model_def: str
    embedding_size: int | None
    keep_probability: float
    ignore_keep_probability: bool
    eig_floor: float
    jit: bool


@dataclass(kw_only=True)
class TemporalTrainConfig(CovPoolTraining):
    """What `covpoolfer tempPoolTrain` reads: the shared settings alone."""
