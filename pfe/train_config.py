"""What PFE's two trainers read (`train_base`: the sphere-net base; `train`: the uncertainty head),
as typed records the trainers take and config.json holds, and the flags they share."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from common.cli import add_strategy_args, output_dir, positive_int
from common.config import RunSettings


@dataclass(kw_only=True)
class PFERun(RunSettings):
    data_dir: str
    models_dir: str
    logs_dir: str
    num_steps: int
    epoch_size: int  # steps between checkpoints
    learning_rate: float
    weight_decay: float
    bn_decay: float
    no_flip: bool


@dataclass(kw_only=True)
class BaseConfig(PFERun):
    depth: int
    embedding_size: int
    batch_size: int
    optimizer: str
    am_scale: float
    am_margin: float
    pretrained: str | None


@dataclass(kw_only=True)
class HeadConfig(PFERun):
    base_model: str
    num_classes_per_batch: int
    images_per_class: int
    lr_drop_step: int
    learning_rate_after_drop: float
    restore_head: bool


def add_shared_flags(p: argparse.ArgumentParser, models_dir: str, num_steps: int, learning_rate: float,
                     bn_what: str) -> None:
    """The flags of both trainers, with each one's defaults (its original config's)."""
    p.add_argument("--data_dir", required=True, help="identity folders of aligned 112x96 faces")
    p.add_argument("--models_dir", type=output_dir, default=models_dir)
    p.add_argument("--logs_dir", type=output_dir, default="logs/")
    p.add_argument("--num_steps", type=positive_int, default=num_steps)
    p.add_argument("--epoch_size", type=positive_int, default=1000, help="steps between checkpoints")
    p.add_argument("--learning_rate", type=float, default=learning_rate)
    p.add_argument("--weight_decay", type=float, default=5e-4)
    p.add_argument("--bn_decay", type=float, default=0.995, help=f"{bn_what} BN decay (0.5 for runs of few steps)")
    p.add_argument("--no_flip", action="store_true", help="no random left-right flip (the original flips)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the newest run under --models_dir")
    add_strategy_args(p)
