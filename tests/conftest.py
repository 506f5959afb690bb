"""Shared fixtures: synthetic datasets are generated once per session in a temp folder."""

import os

import pytest

from common.cpu_tuning import use_onednn_in_tensorflow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The kernels the packages select on import, whichever module a test imports first.
use_onednn_in_tensorflow()


# The test files that take longest (pytest --durations, two workers on 2 cores), longest first.
# They are handed out first, so that `make test`'s two workers finish together instead of one
# waiting alone on a long file collected last; the rest keep their order.
LONGEST_FIRST = ("mobilefacenet/test_mobilefacenet.py", "mobilefacenet/test_training_vs_original_mobilefacenet.py",
                 "common/test_distributed_trainers.py", "covpoolfer/test_pipeline.py",
                 "covpoolfer/test_training_vs_original_covpoolfer.py", "pfe/test_original_pfe.py",
                 "common/test_gpu_extra.py", "mobilefacenet/test_original_mobilefacenet.py",
                 "covpoolfer/test_original_covpoolfer.py", "covpoolfer/test_distributed_covpoolfer.py")


def pytest_collection_modifyitems(items):
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}

    def file_rank(item) -> int:
        path = item.path.as_posix()
        return next((k for name, k in rank.items() if path.endswith("tests/" + name)), len(rank))

    items.sort(key=file_rank)  # stable: within a file, and among the rest, the collected order


def pytest_terminal_summary(terminalreporter):
    """The number of bad inputs the table-driven tests held to the failure contract."""
    checked = sum(int(dict(rep.user_properties).get("bad_inputs", 0))
                  for rep in terminalreporter.stats.get("passed", []) if rep.when == "call")
    if checked:
        terminalreporter.write_line(f"bad inputs checked: {checked} (one line, the right exit code, no traceback)")


def one_error_line(stderr: str) -> str:
    """The project's failure contract: exactly one ``error: <file>: expected ..., found ...`` line
    (TensorFlow's and Paddle's own log lines may stand beside it). Returns that line."""
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, f"expected one error: line, found {len(errors)}:\n{stderr[-2000:]}"
    assert "Traceback (most recent call last)" not in stderr, stderr[-2000:]
    return errors[0]


def train_tiny_pfe(root):
    """A depth-4 PFE (base, then head) trained two steps each on six synthetic CASIA identities
    under ``root``: (base run folder, PFE run folder)."""
    from common import synthetic
    from pfe import train, train_base

    synthetic.make_casia(root / "casia", identities=6, images_per_identity=4)
    train_base.main(["--data_dir", str(root / "casia"), "--models_dir", str(root / "base"), "--logs_dir",
                     str(root / "logs"), "--depth", "4", "--batch_size", "8", "--num_steps", "2",
                     "--epoch_size", "2", "--optimizer", "ADAM", "--learning_rate", "1e-3"])
    (base_run,) = list((root / "base").iterdir())
    train.main(["--base_model", str(base_run), "--data_dir", str(root / "casia"), "--models_dir", str(root / "pfe"),
                "--logs_dir", str(root / "logs"), "--num_classes_per_batch", "2", "--images_per_class", "4",
                "--num_steps", "2", "--epoch_size", "2", "--learning_rate", "0.1"])
    (pfe_run,) = list((root / "pfe").iterdir())
    return base_run, pfe_run


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


def _run_module(module: str, *args, env: dict | None = None, timeout: float = 600):
    """`python -m module args...` in a fresh process (a strategy needs a fresh TensorFlow)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **(env or {})})
    assert r.returncode == 0, f"{module} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout + r.stderr


def _assert_same_training(one_log: str, one_run, two_log: str, two_run, rtol: float = 0.02):
    """Two one-step runs (one device vs replicas) logged the same loss and saved the same weights:
    every model variable within rtol of its largest magnitude."""
    import re

    import numpy as np
    import tensorflow as tf

    loss = [float(re.findall(r"\bloss (-?[0-9.]+)", log)[-1]) for log in (one_log, two_log)]
    np.testing.assert_allclose(loss[1], loss[0], rtol=1e-4, err_msg="loss differs")
    a, b = (tf.train.load_checkpoint(tf.train.latest_checkpoint(str(r))) for r in (one_run, two_run))
    names = [n for n, _ in tf.train.list_variables(tf.train.latest_checkpoint(str(one_run)))
             if n.startswith(("model/", "base/", "head/", "centers/")) and "OBJECT_CONFIG" not in n]
    assert names, "no model variables in the checkpoint"
    for n in names:
        x, y = a.get_tensor(n), b.get_tensor(n)
        np.testing.assert_allclose(y, x, rtol=0, atol=rtol * float(np.abs(x).max()) + 1e-5, err_msg=n)


def _mirrored_equals_one_device(module: str, models_flag: str, out, *args) -> dict:
    """Run one training step of `module` on one device and on two CPU replicas (--strategy
    mirrored --cpu_replicas 2), the same args otherwise, into out/one and out/two; assert the
    same loss and weights. Returns the two run folders."""
    from concurrent.futures import ThreadPoolExecutor

    variants = {"one": [], "two": ["--strategy", "mirrored", "--cpu_replicas", "2"]}
    with ThreadPoolExecutor(2) as pool:  # two processes at once: most of each is single-threaded tracing
        futures = {name: pool.submit(_run_module, module, models_flag, out / name, *args, *extra)
                   for name, extra in variants.items()}
        logs = {name: f.result() for name, f in futures.items()}
    runs = {}
    for name in variants:
        (runs[name],) = list((out / name).iterdir())
    assert "strategy mirrored: 2 replica(s) in sync" in logs["two"]
    _assert_same_training(logs["one"], runs["one"], logs["two"], runs["two"])
    return runs


def _make_original(model: str, out, *args, pixels=None):
    """An original model's TF1 checkpoint and its outputs, from tests/tf1_originals.py run in its own
    process (graph mode). Returns (checkpoint folder, expected outputs, the raw pixels)."""
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if pixels is not None:
        np.save(out / "input.npy", pixels)
        args = (*args, "--pixels", out / "input.npy")
    script = Path(__file__).parent / "tf1_originals.py"
    r = subprocess.run([sys.executable, str(script), model, "--out", str(out), *map(str, args)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"tf1_originals.py {model} failed:\n{r.stderr[-3000:]}"
    return out / "ckpt", dict(np.load(out / "expected.npz")), np.load(out / "pixels.npy")


@pytest.fixture(scope="session")
def make_original():
    return _make_original


@pytest.fixture
def run_module():
    return _run_module


@pytest.fixture
def mirrored_equals_one_device():
    return _mirrored_equals_one_device


def check_bad_inputs(cases, cwd, timeout: float = 120, workers: int = 2) -> int:
    """Run each bad input as its own command line and hold it to the failure contract.

    ``cases`` are ``(argv, exit_code, words)``: ``argv`` after ``python -m``; the process must exit
    with ``exit_code`` (1: one ``error:`` line; 2: argparse's usage line), print no traceback, and
    its last error line must hold every word of ``words``. Returns the number of cases checked."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    def one(case):
        argv, code, words = case
        r = subprocess.run([sys.executable, "-m", *map(str, argv)], capture_output=True, text=True,
                           timeout=timeout, cwd=cwd, env={**os.environ, "FACEZOO_DEBUG": ""})
        problems = []
        if r.returncode != code:
            problems.append(f"exit {r.returncode}, expected {code}")
        if "Traceback (most recent call last)" in r.stderr:
            problems.append("traceback")
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:") or ": error:" in ln]
        if code == 1 and len([ln for ln in lines if ln.startswith("error:")]) != 1:
            problems.append(f"{len(lines)} error lines")
        last = lines[-1] if lines else ""
        missing = [w for w in words if w not in last]
        if missing:
            problems.append(f"words {missing} not in {last!r}")
        return (argv, problems, r.stderr[-800:]) if problems else None

    with ThreadPoolExecutor(workers) as pool:
        failures = [f for f in pool.map(one, cases) if f]
    assert not failures, "\n".join(f"{' '.join(map(str, a))}: {p}\n{e}" for a, p, e in failures)
    print(f"{len(cases)} bad inputs: each one line, the right exit code, no traceback")
    return len(cases)


# ------------------------------------------------------------------ training against the original
def _original_training(model: str, out, *args):
    """tests/tf1_training.py run in its own process (TF1 graph mode): the original trainer's first
    steps. Returns (checkpoint folder of the starting weights, per-step loss terms, every
    variable after the last step by TF1 name)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    out = Path(out)
    script = Path(__file__).parent / "tf1_training.py"
    r = subprocess.run([sys.executable, str(script), model, "--out", str(out), *map(str, args)],
                       capture_output=True, text=True, timeout=900, cwd=script.parent)
    assert r.returncode == 0, f"tf1_training.py {model} failed:\n{r.stderr[-3000:]}"
    return out / "ckpt", json.loads((out / "losses.json").read_text()), dict(np.load(out / "final.npz"))


@pytest.fixture(scope="session")
def original_training():
    return _original_training


def logged_scalars(log_dir) -> dict[str, list[float]]:
    """Every TensorBoard scalar our trainer wrote under ``log_dir``, by tag, in step order."""
    from pathlib import Path

    import tensorflow as tf

    found: dict[str, dict[int, float]] = {}
    for events in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return {tag: [v for _, v in sorted(steps.items())] for tag, steps in found.items()}


def assert_losses_match(ours: dict[str, list[float]], theirs: list[dict], tags: dict[str, str],
                        per_log: int = 1, rtol: float = 1e-4, spread: list[dict] | None = None) -> None:
    """Each logged loss term (``tags``: our TensorBoard tag -> the original's name) equals the
    original's, step by step, within ``rtol``, or within twice the ``spread`` between the original
    and a run of it that differs only in roundoff; ``per_log`` steps are averaged into each of
    our log points."""
    import numpy as np

    for tag, name in tags.items():
        values = np.array([t[name] for t in theirs]).reshape(-1, per_log).mean(1)
        assert len(ours[tag]) == len(values), f"{tag}: {len(ours[tag])} logged, {len(values)} expected"
        limit = rtol * np.abs(values)
        if spread is not None:
            limit = np.maximum(limit, 2 * np.abs(np.array([t[name] for t in spread]).reshape(-1, per_log).mean(1)
                                                 - values))
        err = np.abs(np.array(ours[tag]) - values)
        assert (err <= limit).all(), f"{tag}: ours {ours[tag]}, the original's {values.tolist()}, allowed {limit}"


def assert_same_moves(start, theirs: dict, ours: dict, bound: float = 1e-3, spread: dict | None = None,
                      label: str = "", pooled: bool = False) -> int:
    """Every variable moved as in the original: max|Δours − Δorig| ≤ bound·max|Δorig| (Δ from the
    starting value ``start(name)``), or within twice the distance of ``spread`` (the original's
    variables after a run that differs only in roundoff; or a list of such runs, the farthest
    counting) from the original. ``pooled``: the
    spread is read as one draw of the run's roundoff amplification, so every variable may differ
    by twice the largest relative spread of any variable (how far roundoff lands per variable
    changes from CPU to CPU; how far it lands at most does not). Prints the largest ratios
    (pytest -s); returns the number of variables compared."""
    import numpy as np

    spreads = spread if isinstance(spread, list) else [spread] if spread is not None else []

    def distance(name):  # the farthest a roundoff-only rerun of the original landed from it
        return max(float(np.abs(other[name] - theirs[name]).max()) for other in spreads)

    widest = 0.0
    if pooled and spreads:
        widest = max(distance(n) / max(float(np.abs(theirs[n] - start(n)).max()), 1e-30) for n in ours)
    failures, ratios = [], []
    for name, value in ours.items():
        first = start(name)
        expected = theirs[name] - first
        err, scale = float(np.abs(value - first - expected).max()), float(np.abs(expected).max())
        # a change within 8 units in the last place of the weight is roundoff (BiMap's QR
        # retraction recomputes W whole; the first-step W differs by ~5 ulp)
        resolution = 8 * float(np.finfo(np.float32).eps) * float(np.abs(theirs[name]).max())
        limit = max(bound * scale, resolution)
        if spreads:
            limit = max(limit, 2 * distance(name), 2 * widest * scale)
        if not err <= limit:
            failures.append(f"{name}: max|Δours − Δorig| {err:.3g} > {limit:.3g} (max|Δorig| {scale:.3g})")
        if err > resolution:  # the ratios that roundoff of the weight itself does not explain
            measured = distance(name) / scale if spreads else None
            ratios.append((err / scale, name, measured))
    line = f"{label}: {len(ours)} variables, {len(ours) - len(ratios)} of them within 8 ulp of the weight"
    line += f"; the widest relative spread {widest:.2g}" if pooled else ""
    if ratios:
        worst = sorted(ratios)[-1]
        line += f"; largest max|Δours − Δorig| / max|Δorig| {worst[0]:.2g} at {worst[1]}"
        line += f" (the measured spread: {worst[2]:.2g})" if worst[2] is not None else ""
    print(line)
    assert not failures, "\n".join(failures)
    return len(ours)


def write_clips(root, clips_per_class: int, seed: int = 0, frames=(6, 40)):
    """AFEW-layout clip features, ``root/<Emotion>/<clip>/<clip>.npy`` [frames, 128]: a class
    direction plus each clip's own mix, so that classes differ and clips vary."""
    from pathlib import Path

    import numpy as np

    from common.models import SFEW_CLASSES

    rng = np.random.default_rng(seed)
    root = Path(root)
    directions = rng.standard_normal((len(SFEW_CLASSES), 128))
    for c, emotion in enumerate(SFEW_CLASSES):
        for k in range(clips_per_class):
            n = int(rng.integers(*frames))
            mix = rng.standard_normal((4, 128)) + directions[c]
            features = rng.standard_normal((n, 4)) @ mix + 0.3 * rng.standard_normal((n, 128))
            clip = root / emotion / f"{c:03d}{k:03d}"
            clip.mkdir(parents=True)
            np.save(clip / f"{clip.name}.npy", features.astype(np.float32))
    return root
