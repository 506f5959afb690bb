"""Read the original authors' TF1 checkpoints (``tf.train.Saver``, name-based) into our Keras models.

Each TF model package keeps a small ``original.py``: it recognises its checkpoints from the
variable names, builds our model with matching options and gives a map from TF1 variable name
to Keras variable. This module does the rest: finding the checkpoint, telling TF1 checkpoints
from ours, ignoring training-only extras, and one-line errors for a missing variable, a shape
mismatch or a checkpoint of another model.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.cli import StageError, first_line

# Saved by the originals' training scripts next to the weights; none of them is needed for
# inference: step counters, optimizer slots and accumulators, EMA shadows, centre-loss centres.
TRAINING_ONLY = re.compile(
    r"(^|/)(global_step|Variable(_\d+)?|epoch|epoch_step|beta[12]_power(_\d+)?|learning_rate|centers)$"
    r"|/(Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad|Adadelta|Adadelta_1|ExponentialMovingAverage)$")
EMA_SUFFIX = "/ExponentialMovingAverage"


def step_of(prefix: str | os.PathLike) -> int:
    """The step number at the end of a checkpoint prefix (``model-x.ckpt-3000`` -> 3000), or -1."""
    match = re.search(r"-(\d+)$", Path(prefix).name.removesuffix(".index"))
    return int(match.group(1)) if match else -1


def find_checkpoint(path: str | os.PathLike) -> str:
    """The checkpoint prefix of a folder or a prefix (``.../ckpt-3000``, ``MobileFaceNet_TF.ckpt``).

    A folder's ``checkpoint`` file is used when the prefix it names exists; the original releases
    carry their authors' absolute paths there, so otherwise the newest ``*.index`` (highest step,
    then latest modification) in the folder is taken.
    """
    p = Path(path)
    if Path(str(p) + ".index").is_file():
        return str(p)
    if p.suffix in (".index", ".meta") and p.with_suffix(".index").is_file():
        return str(p.with_suffix(""))
    if p.is_dir():
        state = tf.train.get_checkpoint_state(str(p))
        named = state and Path(p, state.model_checkpoint_path)  # an absolute path stays as it is
        if named and Path(str(named) + ".index").is_file():
            return str(named)
        indexes = sorted(p.glob("*.index"), key=lambda f: (step_of(f), f.stat().st_mtime))
        if indexes:
            return str(indexes[-1])[: -len(".index")]
        raise StageError(f"{p}: expected a checkpoint folder (a *.index file with its .data-*), "
                         f"found {'no *.index file' if any(p.iterdir()) else 'an empty folder'}")
    if not p.exists() and p.parent.is_dir():
        raise StageError(f"{p}: expected a checkpoint folder or prefix ({p}.index), found nothing")
    raise StageError(f"{p}: expected a checkpoint folder or prefix, found "
                     f"{'a file that is not a checkpoint' if p.is_file() else 'nothing'}")


def original_prefix(path: str | os.PathLike) -> str:
    """The prefix of an original TF1 checkpoint; one line when it is one of ours instead."""
    prefix = find_checkpoint(path)
    if not is_original(prefix):
        raise StageError(f"{prefix}: expected an original TF1 (tf.train.Saver) checkpoint, found one written by "
                         f"this project's trainers (it needs no conversion)")
    return prefix


def write_converted(prefix: str, output_dir, config: dict, use_ema: bool, overwrite: bool, **objects) -> str:
    """A convert_checkpoint stage's output: one of our run folders holding ``objects``, numbered by
    the original's step, with config.json saying where the weights came from. Returns its prefix."""
    from common.tf.training import write_run

    config = {**config, "converted_from": prefix, "use_ema": use_ema}
    return write_run(output_dir, config, max(step_of(prefix), 0), overwrite, **objects)


def list_shapes(prefix: str) -> dict[str, list[int]]:
    """Variable name -> shape of a checkpoint, with one clear line when it cannot be read."""
    try:
        return dict(tf.train.list_variables(prefix))
    except (tf.errors.OpError, ValueError) as err:
        raise StageError(f"{prefix}: expected a readable TensorFlow checkpoint, found an unreadable "
                         f"one ({first_line(err, None)})") from None


def is_original(prefix: str) -> bool:
    """True for a TF1 name-based checkpoint; ours (tf.train.Checkpoint) carry the object graph."""
    return "_CHECKPOINTABLE_OBJECT_GRAPH" not in list_shapes(prefix)


def scopes(shapes: dict[str, list[int]], limit: int = 6) -> str:
    """The top-level scopes of a checkpoint, for a 'found ...' message."""
    tops = sorted({name.split("/")[0] for name in shapes if not TRAINING_ONLY.search(name)})
    more = f" and {len(tops) - limit} more" if len(tops) > limit else ""
    return ", ".join(tops[:limit]) + more if tops else "no model variables"


def _fmt(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _shape(variable) -> list[int]:
    return [int(d) for d in variable.shape]


def _fits(found: list[int], expected: list[int]) -> bool:
    """Same size and the same dimensions once 1s are dropped (PReLU [C] into Keras' [1,1,C])."""
    return [d for d in found if d != 1] == [d for d in expected if d != 1]


def assign(prefix: str, mapping: dict[str, tf.Variable], what: str, use_ema: bool = False) -> list[str]:
    """Assign every mapped TF1 variable to its Keras variable; return the unknown names left over.

    ``mapping`` is TF1 name -> Keras variable and must cover every weight of the model. With
    ``use_ema`` a variable's ``/ExponentialMovingAverage`` shadow is read where the checkpoint
    has one. Fails with one line naming the first missing or mis-shaped variables.
    """
    shapes = list_shapes(prefix)
    missing = [n for n in mapping if n not in shapes]
    if missing:
        listed = ", ".join(f"{n} (expected {_fmt(_shape(mapping[n]))})" for n in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise StageError(f"{prefix}: expected every variable of {what}, found {len(missing)} missing: "
                         f"{listed}{more}")
    wrong = [n for n, v in mapping.items() if not _fits(shapes[n], _shape(v))]
    if wrong:
        listed = ", ".join(f"{n} expected {_fmt(_shape(mapping[n]))} found {_fmt(shapes[n])}" for n in wrong[:3])
        more = f" and {len(wrong) - 3} more" if len(wrong) > 3 else ""
        raise StageError(f"{prefix}: shape mismatch for {what}: {listed}{more}")
    shadows = [n for n in mapping if n + EMA_SUFFIX in shapes]
    if use_ema and not shadows:
        raise StageError(f"{prefix}: --use_ema: expected ExponentialMovingAverage shadows, found none")
    reader = tf.train.load_checkpoint(prefix)
    for name, variable in mapping.items():
        source = name + EMA_SUFFIX if use_ema and name in shadows else name
        try:
            value = np.asarray(reader.get_tensor(source))
        except (tf.errors.OpError, IndexError, ValueError) as err:  # a truncated or damaged .data-* file
            raise StageError(f"{prefix}: expected a readable value of {source}, found a damaged checkpoint "
                             f"({first_line(err)})") from None
        variable.assign(value.reshape(_shape(variable)).astype(tf.as_dtype(variable.dtype).as_numpy_dtype))
    unknown = sorted(n for n in shapes if n not in mapping and not TRAINING_ONLY.search(n))
    if shadows and not use_ema:
        print(f"note: {prefix}: {len(shadows)} ExponentialMovingAverage shadows not used (--use_ema reads them)",
              file=sys.stderr)
    return unknown


def warn_unknown(prefix: str, unknown: list[str], note: str = "") -> None:
    """One warning line for variables the model does not use (e.g. a margin head's weights)."""
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        print(f"warning: {prefix}: {len(unknown)} variable(s) not used{note}: {shown}", file=sys.stderr)
