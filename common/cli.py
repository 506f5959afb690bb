"""Shared command-line plumbing: stage dispatch, one-line failures, logging and progress.

Every stage module exposes ``main(argv=None)``: it prints its figures and returns them (a dict
or a small dataclass: accuracies, timings, paths written), so that a caller such as ``demo``
uses what the stage measured instead of measuring again. The same function runs whether the
user types ``covpoolfer STAGE``, ``python -m covpoolfer.STAGE`` or ``python covpoolfer/STAGE.py``.
Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class StageError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""


def run(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None) -> int:
    """Call a stage's ``main`` and turn StageError/OSError into one line and exit status 1.

    A returned int is the exit status; any other return (the stage's figures) means success."""
    try:
        code = main(argv)
    except StageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except FileNotFoundError as err:
        print(f"error: {err.filename}: file not found", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else EXIT_OK


def dispatch(package: str, stages: dict[str, str], argv: Sequence[str] | None = None) -> int:
    """Console-script entry: ``<package> STAGE [flags]`` runs ``main`` of ``stages[STAGE]``.

    ``stages`` maps stage names to full module names (``{"ckpt2pb": "covpoolfer.ckpt2pb"}``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        width = max(len(s) for s in stages)
        print(f"usage: {package} STAGE [options]   ({package} STAGE --help for a stage's flags)\n")
        print("stages:")
        for stage, module in stages.items():
            doc = _first_doc_line(module)
            print(f"  {stage.ljust(width)}  {doc}")
        return EXIT_OK if argv else EXIT_USAGE
    stage, rest = argv[0], argv[1:]
    if stage not in stages:
        print(f"error: unknown stage '{stage}' for {package}; expected one of: "
              f"{', '.join(stages)}", file=sys.stderr)
        return EXIT_USAGE
    module = importlib.import_module(stages[stage])
    return run(module.main, rest)


def _first_doc_line(module_name: str) -> str:
    """The first docstring line of a module, read from source so --help stays instant."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        return ""
    import ast

    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def positive_int(text: str) -> int:
    """An argparse type for counts and sizes: a whole number of at least 1 (else a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {value}")
    return value


def parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """An ArgumentParser with the project's conventions (defaults shown, no abbreviations)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )


def progress(iterable: Iterable | None = None, **kwargs):
    """A tqdm progress bar on stderr; silent when stderr is not a terminal unless forced."""
    from tqdm import tqdm

    kwargs.setdefault("disable", None)  # None: disable on non-TTY
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)


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


def add_convert_args(p: argparse.ArgumentParser, checkpoint: str) -> None:
    """The flags of every ``convert_checkpoint`` stage; ``checkpoint`` names the release's prefix."""
    p.add_argument("--ckpt_path", required=True,
                   help=f"the original checkpoint: its folder (a `checkpoint` file naming other paths is fine) "
                        f"or the {checkpoint} prefix")
    p.add_argument("--output_dir", required=True, help="the run folder to write")
    p.add_argument("--use_ema", action="store_true", help="take the ExponentialMovingAverage shadows as weights")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --output_dir")


STRATEGIES = ("default", "mirrored", "multi_worker")


def add_strategy_args(p: argparse.ArgumentParser) -> None:
    """--strategy / --cpu_replicas for the TensorFlow trainers (see common.tf.distribute)."""
    p.add_argument("--strategy", default="default", choices=STRATEGIES,
                   help="tf.distribute strategy: default (one device), mirrored (every local GPU), "
                        "multi_worker (several machines; the cluster comes from TF_CONFIG). "
                        "Batch sizes are global: each step's batch is split across the replicas")
    p.add_argument("--cpu_replicas", type=int, default=1,
                   help="split the CPU into this many logical devices, so that --strategy mirrored "
                        "can be tried (and tested) on a machine without GPUs")
