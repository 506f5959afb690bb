"""Typed trainer configurations: each trainer declares what it reads as a dataclass built from
its parsed flags, and its run's config.json is that dataclass written out."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields, is_dataclass


@dataclass(kw_only=True)
class RunSettings:
    """What every TensorFlow trainer takes besides its own recipe: the seed, --resume, and the
    tf.distribute placement (common.cli.add_strategy_args)."""
    seed: int = 0
    resume: bool = False
    strategy: str = "default"
    cpu_replicas: int = 1


def from_args(cls, args: argparse.Namespace, **values):
    """A config dataclass from the parsed flags named as its fields; ``values`` give the fields a
    stage computed from its flags (parsed lists, resolved paths). A field with neither is an error
    in the stage's code, said at once rather than at first use."""
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in values and not hasattr(args, n)]
    if missing:
        raise TypeError(f"{cls.__name__}: no flag or value for {', '.join(missing)}")
    return cls(**{n: values[n] if n in values else getattr(args, n) for n in names})


def as_record(config) -> dict:
    """A config dataclass (or a dict) as the plain dict config.json holds."""
    return asdict(config) if is_dataclass(config) else dict(config)
