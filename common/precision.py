"""fp32, fp16 and int8 of one trained model side by side: speed and accuracy through msame.

A model's `bench --precision DEMO_DIR` takes the fp32 .onnx and the .bin inputs that `make demo`
left in DEMO_DIR, writes the fp16 and int8 copies (common.quantize, int8 calibrated on those
inputs), runs each through the portable msame exactly as a user would and scores msame's
outputs with the model's own accuracy stage. Rows: ms per image (ONNX Runtime on the first input,
the variants timed in turn), the speed-up over fp32, the accuracies and their change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from common.cli import StageError


def variants(fp32: Path, work: Path, calibration_dir: Path, batches: int = 64) -> dict[str, Path]:
    """{'fp32': the demo's model, 'fp16': ..., 'int8': ...}, the reduced ones written into work."""
    from common import quantize
    from common.backends import onnx_backend
    from common.modelspec import read_sidecar

    if not fp32.is_file():
        raise StageError(f"{fp32}: expected the demo's fp32 .onnx (run `make demo` first), found nothing")
    stem = fp32.name.removesuffix(".onnx")
    feeds = quantize.calibration_feeds(calibration_dir, read_sidecar(fp32) or onnx_backend(fp32).spec, batches)
    return {"fp32": fp32, "fp16": quantize.to_fp16(fp32, work / f"{stem}.fp16.onnx"),
            "int8": quantize.to_int8(fp32, work / f"{stem}.int8.onnx", feeds)}


def speeds(models: dict[str, Path], inputs: Path, rounds: int = 5, repeats: int = 20) -> dict[str, float]:
    """ms per run of each variant on the first input .bin: the median over rounds that take the
    variants in turn (A B C A B C ...), so that a slower or busier minute hits them all alike."""
    import numpy as np

    from common.backends import onnx_backend
    from common.bench import time_ms
    from common.binio import read_bin

    backends = {k: onnx_backend(p) for k, p in models.items()}
    tensor = next(iter(backends.values())).spec.inputs[0]
    first = sorted(inputs.glob("*.bin"))[0]
    x = read_bin(first, [d if d not in (None, -1) else 1 for d in tensor.shape], tensor.dtype)
    samples: dict[str, list[float]] = {k: [] for k in models}
    for _ in range(rounds):
        for k, run in backends.items():
            samples[k].append(time_ms(lambda run=run: run([x]), repeats))
    return {k: float(np.median(v)) for k, v in samples.items()}


def compare(model: str, models: dict[str, Path], inputs: Path, work: Path,
            score: Callable[[Path], dict[str, float]], note: str = "") -> list[dict]:
    """Run every variant over the same inputs with msame and score its outputs; time them in turn."""
    from common import msame

    rows = []
    for precision, path in models.items():
        run = msame.main(["--model", str(path), "--input", str(inputs), "--output", str(work / f"out_{precision}")])
        rows.append({"model": model, "precision": precision, "file": path.name,
                     "size_mb": path.stat().st_size / 1e6, "msame_ms": run.average_without_first_ms,
                     "images": len(run.times_ms), "runtime": run.runtime, **score(run.output_dir), "note": note})
    for row, ms in zip(rows, speeds(models, inputs).values(), strict=True):
        row["ms_image"] = ms
    return rows


def render(rows: list[dict]) -> str:
    """A Markdown table: per model, each precision's speed and accuracy beside fp32's."""
    lines = ["| model | precision | file MB | ms/image (batch 1, median) | speed-up | accuracy | change (points) | note |",
             "|---|---|---|---|---|---|---|---|"]
    base = {r["model"]: r for r in rows if r["precision"] == "fp32"}
    for r in rows:
        if "ms_image" not in r:  # a model without a reduced-precision route says why
            lines.append(f"| {r['model']} | {r['precision']} | | | | | | {r['note']} |")
            continue
        b = base[r["model"]]
        metrics = [k for k in r if k.startswith("acc")]
        acc = ", ".join(f"{k.removeprefix('acc_') or k} {r[k]:.4f}" for k in metrics)
        change = ", ".join(f"{100 * (r[k] - b[k]):+.1f}" for k in metrics)
        lines.append(f"| {r['model']} | {r['precision']} | {r['size_mb']:.1f} | {r['ms_image']:.2f} | "
                     f"{b['ms_image'] / r['ms_image']:.2f}x | {acc} | {change} | {r.get('note', '')} |")
    return "\n".join(lines) + "\n"
