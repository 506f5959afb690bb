"""Shared command-line plumbing: stage dispatch, one-line failures, logging and progress.

Every stage module exposes ``main(argv=None)``: it prints its figures and returns them (a dict
or a small dataclass: accuracies, timings, paths written), so that a caller such as ``demo``
uses what the stage measured instead of measuring again. The same function runs whether the
user types ``covpoolfer STAGE``, ``python -m covpoolfer.STAGE`` or ``python covpoolfer/STAGE.py``.
Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage error (argparse),
130/143 interrupted (SIGINT/SIGTERM). No traceback reaches the user unless ``FACEZOO_DEBUG=1``
is set or ``<package> --debug STAGE`` is typed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class StageError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""


DEBUG_ENV = "FACEZOO_DEBUG"


class Terminated(BaseException):
    """SIGTERM, raised where the process was so that ``finally`` blocks and atomic writes unwind."""


def _on_sigterm(signum, frame):
    raise Terminated()


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def first_line(err: BaseException, limit: int | None = 200, default: str | None = None) -> str:
    """The first non-empty line of an error's message, for a one-line report (frameworks' messages
    run to many lines); ``default`` (else the error's type name) when it has none."""
    line = next((s.strip() for s in str(err).splitlines() if s.strip()), None)
    if line is None:
        return default if default is not None else type(err).__name__
    return line[:limit] if limit else line


def os_error_line(err: OSError) -> str:
    """One line for a failed file operation: the path, what was expected, what was found."""
    where = err.filename if err.filename is not None else "a file"
    if isinstance(err, FileNotFoundError):
        return f"{where}: file not found"
    if isinstance(err, PermissionError):
        return f"{where}: expected a readable/writable path, found permission denied"
    if isinstance(err, NotADirectoryError):
        return f"{where}: expected a folder, found a file on the path"
    if isinstance(err, IsADirectoryError):
        return f"{where}: expected a file, found a folder"
    if isinstance(err, FileExistsError):
        return f"{where}: expected a new path, found an existing file"
    if err.errno == 28:
        return f"{where}: no space left on the device"
    if err.errno == 40:
        return f"{where}: expected a file, found a symbolic link loop"
    return f"{where}: {err.strerror or err}"


def run(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None) -> int:
    """Call a stage's ``main``; every failure becomes one line on stderr and a non-zero status.

    A returned int is the exit status; any other return (the stage's figures) means success.
    StageError and OSError are the expected failures; anything else is reported as unexpected
    in one line too, with its traceback only when debugging (``FACEZOO_DEBUG=1``)."""
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = main(argv)
    except StageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as err:
        if debugging():
            raise
        print(f"error: {os_error_line(err)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("error: interrupted (SIGTERM)", file=sys.stderr)
        return 143
    except Exception as err:
        if debugging():
            raise
        print(f"error: unexpected {type(err).__name__}: {first_line(err, 300, 'no message')} "
              f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    return code if isinstance(code, int) else EXIT_OK


def dispatch(package: str, stages: dict[str, str], argv: Sequence[str] | None = None) -> int:
    """Console-script entry: ``<package> STAGE [flags]`` runs ``main`` of ``stages[STAGE]``.

    ``stages`` maps stage names to full module names (``{"ckpt2pb": "covpoolfer.ckpt2pb"}``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--debug":  # `<package> --debug STAGE ...`: tracebacks shown
        os.environ[DEBUG_ENV] = "1"
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        width = max(len(s) for s in stages)
        print(f"usage: {package} [--debug] STAGE [options]   ({package} STAGE --help for a stage's flags; "
              f"--debug shows tracebacks)\n")
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


def positive_float(text: str) -> float:
    """An argparse type for rates: a finite number above 0 (else a usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0, found '{text}'") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number above 0, found {text}")
    return value


def _writable_place(path: Path) -> None:
    """The nearest existing folder on ``path``'s way must be a writable folder, not a file."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{path}: expected a path inside folders, found the file {parent}")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise argparse.ArgumentTypeError(f"{path}: expected a writable folder, found {parent} read-only")
            return


def output_dir(text: str) -> str:
    """An argparse type for a folder a stage writes into: not a file, nothing in its way, writable."""
    path = Path(text)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: expected a folder to write into, found a file")
        if not os.access(path, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"{text}: expected a writable folder, found it read-only")
        return text
    _writable_place(path)
    return text


def output_file(text: str) -> str:
    """An argparse type for a file a stage writes: not a folder, its folder writable."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: expected a file to write, found a folder")
    if path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: expected a writable folder, found {path.parent} read-only")
    _writable_place(path)
    return text


def add_overwrite(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help=f"replace {what} left in the output folder by an earlier run (without it a "
                        f"non-empty output folder is refused, so old and new files never mix)")


def parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """An ArgumentParser with the project's conventions (defaults shown, no abbreviations)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )


def add_recipe(p: argparse.ArgumentParser, recipes: dict[str, dict], default: str, help: str) -> None:
    """--recipe NAME: a named set of flag values (a trainer's original settings); the help lists
    each recipe's values. ``parse_with_recipe`` makes them the defaults."""
    def flag(key, value):
        return f"--{key}" if value is True else f"--{key} {Path(value).name if isinstance(value, str) else value}"

    listed = "; ".join(f"{name}: " + (", ".join(flag(k, v) for k, v in values.items()) or "the defaults shown")
                       for name, values in recipes.items())
    p.add_argument("--recipe", choices=list(recipes), default=default, help=f"{help} ({listed})")


def parse_with_recipe(p: argparse.ArgumentParser, argv, recipes: dict[str, dict]) -> argparse.Namespace:
    """Parse ``argv`` with the chosen recipe's values as defaults: a flag given on the command
    line wins over the recipe, the recipe over the parser's own default."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--recipe", choices=list(recipes), default=p.get_default("recipe"))
    chosen, _ = pre.parse_known_args(argv)
    p.set_defaults(**recipes[chosen.recipe])
    return p.parse_args(argv)


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


def add_checkpoint_args(p: argparse.ArgumentParser, model: str) -> None:
    """--ckpt_path (whatever the model table says the model's restore accepts) and --use_ema."""
    from common.models import MODELS

    p.add_argument("--ckpt_path", required=True, help=f"the checkpoint: {MODELS[model].checkpoints}")
    p.add_argument("--use_ema", action="store_true",
                   help="original checkpoints: read the ExponentialMovingAverage shadows where present")


def add_freeze_args(p: argparse.ArgumentParser, output_path: str, output_name: str | None, batch_size: int | None,
                    by_model: str = "") -> None:
    """The output flags of every ckpt2pb, with the original's defaults (None: ``by_model`` says
    which default each network takes)."""
    p.add_argument("--output_path", type=output_dir, default=output_path, help="output folder")
    p.add_argument("--output_name", default=output_name, help=f"file name of the .pb{by_model}")
    p.add_argument("--batch_size", type=positive_int, default=batch_size,
                   help=f"fixed batch of the frozen graph{by_model}")


def add_convert_args(p: argparse.ArgumentParser, checkpoint: str) -> None:
    """The flags of every ``convert_checkpoint`` stage; ``checkpoint`` names the release's prefix."""
    p.add_argument("--ckpt_path", required=True,
                   help=f"the original checkpoint: its folder (a `checkpoint` file naming other paths is fine) "
                        f"or the {checkpoint} prefix")
    p.add_argument("--output_dir", type=output_dir, required=True, help="the run folder to write")
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
