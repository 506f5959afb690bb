"""Speed of MicroExpression (ResNet50 at 224, the original): paddle.inference and ONNX Runtime
inference at batch 1 and 32, and a hapi training step at the original batch of 32.

    microexpression bench [--quick] [--json rows.json]
    microexpression bench --precision demo_out/microexpression   # fp32 / fp16 / int8 of the demo's model

Untrained weights and random inputs. FLOPs are counted from the ONNX graph (Conv, Gemm).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

SHAPE = [3, 224, 224]
BATCH = 32


def rows(quick: bool) -> dict:
    """Rows plus Paddle's matmul rate on the same device."""
    import os

    import paddle

    from common.backends import onnx_backend, paddle_backend
    from common.bench import matmul_gflops, measure
    from microexpression.export_onnx import convert
    from microexpression.models.resnet import build_model, input_spec

    paddle.seed(0)
    threads = len(os.sched_getaffinity(0))
    net = build_model("resnet50")
    model = paddle.Model(net, inputs=input_spec(SHAPE), labels=[paddle.static.InputSpec([-1, 1], "int64", "label")])
    model.prepare(paddle.optimizer.Momentum(learning_rate=0.00375, momentum=0.9, parameters=net.parameters(),
                                            weight_decay=paddle.regularizer.L2Decay(1e-6)),
                  paddle.nn.CrossEntropyLoss())
    paddle_version = f"paddle {paddle.__version__}"
    out = []
    rng = np.random.default_rng(0)
    repeats = 3 if quick else 10
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "MicroExpression")
        model.save(prefix, training=False)
        onnx_path = convert(prefix, Path(tmp) / "MicroExpression.onnx")
        predictor = paddle_backend(prefix, threads=threads)
        session = onnx_backend(onnx_path)
        for batch in (1, BATCH):
            x = rng.normal(size=(batch, *SHAPE)).astype(np.float32)
            flops = _static_flops(onnx_path, batch, Path(tmp)) / batch
            out.append(measure("MicroExpression", "inference", f"{paddle_version} paddle.inference", batch,
                               lambda x=x: predictor([x]), repeats, flops))
            out.append(measure("MicroExpression", "inference", session.name, batch, lambda x=x: session([x]),
                               repeats, flops))

    x = paddle.to_tensor(rng.normal(size=(BATCH, *SHAPE)).astype(np.float32))
    y = paddle.to_tensor(rng.integers(0, 7, (BATCH, 1)))
    net.train()
    # A training step costs about three forward passes (forward, input and weight gradients).
    out.append(measure("MicroExpression", "training", f"{paddle_version} hapi train_batch", BATCH,
                       lambda: model.train_batch([x], [y]), 1 if quick else 3, 3 * flops,
                       note="FLOPs = 3x forward"))
    out += _pipeline(out[-1], quick)

    n = 1024 if quick else 2048
    a, b = paddle.randn([n, n]), paddle.randn([n, n])
    rate = matmul_gflops(lambda: paddle.matmul(a, b).numpy(), n)
    device = "GPU" if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() else "CPU"
    return {"framework": paddle_version, "device": device, "matmul_gflops": rate, "rows": out}


def _pipeline(training: dict, quick: bool) -> list[dict]:
    """train's input: JPEG frames decoded, RandomResizedCrop to 224, flip, normalise, batched by
    Paddle's DataLoader in this process and with two worker processes."""
    import paddle

    from common import synthetic
    from common.bench import pipeline_row
    from microexpression import annotate
    from microexpression.data import MicroExpression

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = synthetic.make_casme2(tmp, subjects=8, clips_per_subject=7, frames_per_clip=6)
        annotate.main(["--data_root", str(root), "--split", "random"])
        data = MicroExpression("train", root, SHAPE, 7)
        for workers in (0, 2):
            loader = paddle.io.DataLoader(data, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=workers)

            def batches(loader=loader):
                while True:
                    yield from loader

            it = batches()
            rows.append(pipeline_row("MicroExpression", f"paddle.io.DataLoader, num_workers {workers}", BATCH,
                                     lambda it=it: next(it)[0].numpy(), 3 if quick else 10, training,
                                     "170x140 JPEG frames decoded, RandomResizedCrop 224, flip, normalise"))
    return rows


def _static_flops(onnx_path: Path, batch: int, tmp: Path) -> float:
    """FLOPs of the ONNX graph with its dynamic batch fixed to `batch`."""
    import onnx

    from common.bench import onnx_flops

    m = onnx.load(str(onnx_path))
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = batch
    fixed = tmp / f"b{batch}.onnx"
    onnx.save(m, str(fixed))
    return onnx_flops(fixed)


def precision(demo_dir: Path, work: Path) -> list[dict]:
    """fp32 / fp16 / int8 of the demo's ONNX model on the demo's test split, batch 1, as .bin
    files preprocessed as evaluation does (common.precision)."""
    from common.backends import onnx_backend
    from common.binio import read_bin, write_bin
    from common.metrics import topk_accuracy
    from common.precision import compare, variants
    from microexpression.data import MicroExpression

    fp32 = demo_dir / "onnx" / "MicroExpression.onnx"
    if not fp32.is_file():
        from common.cli import StageError

        raise StageError(f"{fp32}: expected the demo's ONNX model (run `make demo` first), found nothing")
    (tensor,) = onnx_backend(fp32).spec.inputs
    shape = [int(d) for d in tensor.shape[1:]]
    data = MicroExpression("test", demo_dir / "data" / "classification2", shape, 7)
    bins = work / "bins"
    labels = []
    for i in range(len(data)):
        image, label = data[i]
        write_bin(bins / f"{i}.bin", np.asarray(image)[None], "float32")
        labels.append(int(label))

    def score(out):
        logits = np.concatenate([read_bin(out / f"{i}_output_0.bin", (1, 7), "float32") for i in range(len(labels))])
        return {"acc_top1": topk_accuracy(labels, logits, 1), "acc_top5": topk_accuracy(labels, logits, 5)}

    models = variants(fp32, work, bins)
    return compare("MicroExpression", models, bins, work, score,
                   note=f"the demo's resnet18 at {shape[1]} px on {len(labels)} synthetic test frames")


def main(argv=None) -> dict:
    from common.bench_stage import stage_main

    return stage_main("microexpression bench", __doc__, rows, argv, precision)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
