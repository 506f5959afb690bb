"""Timing, peak memory and the row format shared by the per-model benchmarks (`make bench`).

Framework-free: each model's `bench` stage imports its own framework and hands plain callables
here. A row is a dict; `scripts/bench.py` gathers the rows of every model into one table.
"""

from __future__ import annotations

import platform
import re
import resource
import time
from pathlib import Path

import numpy as np

from common.files import write_json_atomic


def reset_peak_rss() -> bool:
    """Resets the process's peak resident size (Linux: "5" to clear_refs); False where it can't."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """The process's peak resident memory since start or the last `reset_peak_rss`, in MiB."""
    try:
        found = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
        if found:
            return int(found.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_ms(fn, repeats: int, warmup: int = 1) -> float:
    """Median wall time of `fn()` in ms over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def measure(model: str, kind: str, backend: str, batch: int, fn, repeats: int, flops_per_image: float,
            warmup: int = 1, **extra) -> dict:
    """Runs `fn` (one batch of inference or one training step) and returns the table row.

    `flops_per_image` is counted from the graph: the forward pass for inference, the whole
    step divided by the batch for training.
    """
    reset_peak_rss()
    ms = time_ms(fn, repeats, warmup)
    row = dict(model=model, kind=kind, backend=backend, batch=batch, ms_batch=ms, ms_image=ms / batch,
               images_s=1000 * batch / ms, peak_mib=peak_rss_mib(), gflop_image=flops_per_image / 1e9,
               gflops=flops_per_image * batch / ms / 1e6, repeats=repeats)
    row.update(extra)
    print(format_row(row), flush=True)
    return row


def pipeline_row(model: str, backend: str, batch: int, next_batch, repeats: int, training: dict, what: str,
                 batches_per_run: int = 20) -> dict:
    """The input pipeline alone (read, decode, augment, batch), timed over runs of many batches
    pulled back to back (one batch would come out of the prefetch buffer, not the pipeline), with
    how far it outruns the training step: a GPU step ~30x faster needs the pipeline that much ahead."""
    import os

    def run():
        for _ in range(batches_per_run):
            next_batch()

    row = measure(model, "input pipeline", backend, batch * batches_per_run, run, repeats, 0.0)
    row.update(batch=batch, ms_batch=row["ms_batch"] / batches_per_run)
    factor = row["images_s"] / training["images_s"]
    cores = len(os.sched_getaffinity(0))
    row["factor"] = factor
    verdict = ("keeps up with a step 30x faster" if factor >= 30 else
               f"a step 30x faster would wait: about {cores * 30 / factor:.0f} such CPU cores to keep up")
    row["note"] = f"{what}; {factor:.1f}x the training step's {training['images_s']:.1f} images/s; {verdict}"
    return row


def video_row(model: str, kind: str, backend: str, frames: int, seconds: float, note: str) -> dict:
    """A row of a stage run over a clip: frames per second of the whole loop (decode, detect,
    align, model), one frame per "image"."""
    row = dict(model=model, kind=kind, backend=backend, batch=1, ms_batch=1000 * seconds / frames,
               ms_image=1000 * seconds / frames, images_s=frames / seconds, peak_mib=peak_rss_mib(), gflop_image=0.0,
               gflops=0.0, repeats=1, note=note)
    print(format_row(row), flush=True)
    return row


def format_row(r: dict, reference_gflops: float | None = None) -> str:
    ratio = f"{r['gflops'] / reference_gflops:.0%}" if reference_gflops else ""
    note = r.get("note", "")
    return (f"| {r['model']} | {r['kind']} | {r['backend']} | {r['batch']} | {r['ms_batch']:.1f} | "
            f"{r['ms_image']:.2f} | {r['images_s']:.1f} | {r['peak_mib']:.0f} | {r['gflop_image']:.3f} | "
            f"{r['gflops']:.1f} | {ratio} | {note} |")


TABLE_HEADER = ("| model | kind | backend | batch | ms/batch | ms/image | images/s | peak RSS MiB | GFLOP/image "
                "| GFLOP/s | of matmul | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def matmul_gflops(product, n: int, repeats: int = 5) -> float:
    """GFLOP/s of `product()`, one n×n by n×n float32 matrix multiply (2n³ FLOPs) of any framework."""
    return 2 * n**3 / time_ms(product, repeats) / 1e6


def numpy_matmul_gflops(n: int = 2048) -> float:
    """float32 matrix-multiply rate through NumPy's BLAS, GFLOP/s."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), np.float32), rng.standard_normal((n, n), np.float32)
    return matmul_gflops(lambda: a @ b, n)


def machine() -> str:
    name = platform.processor() or platform.machine()
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        name = found.group(1).strip() if found else name
    except OSError:
        pass
    import os

    return f"{name}, {len(os.sched_getaffinity(0))} cores available, {platform.system()}"


def write_json(path: str | Path, payload: dict) -> None:
    write_json_atomic(path, payload)


def onnx_flops(path: str | Path) -> float:
    """FLOPs of one run of an ONNX model with static shapes, counted from its graph: 2 per
    multiply-add of Conv, Gemm and MatMul (the ops that dominate every model here)."""
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    shapes = {}
    for v in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in model.graph.initializer:
        shapes[t.name] = list(t.dims)
    total = 0.0
    for node in model.graph.node:
        if node.op_type == "Conv":
            weight, out = shapes[node.input[1]], shapes[node.output[0]]
            total += 2 * float(np.prod(out)) * float(np.prod(weight[1:]))  # weight: [Cout, Cin/g, kh, kw]
        elif node.op_type in ("Gemm", "MatMul"):
            b, out = shapes[node.input[1]], shapes[node.output[0]]
            trans_b = any(at.name == "transB" and at.i for at in node.attribute)
            total += 2 * float(np.prod(out)) * (b[-1] if trans_b else b[-2])  # the inner dimension
    return total
