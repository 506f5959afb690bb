"""Reduced-precision copies of an fp32 ONNX model, the CPU's counterpart of atc's precision modes.

fp16: onnxconverter-common converts weights and ops to float16; inputs and outputs keep the fp32
model's types (a float16 output such as MobileFaceNet's `the_outputs` stays float16), so msame's
files keep their contract. `allow_fp32_to_fp16` keeps the converter's default list of ops that
lose too much in float16 in float32; `force_fp16` converts every op it can.
int8: ONNX Runtime static quantization in QDQ format, int8 weights per output channel and uint8
activations whose ranges (99.999th percentile) are calibrated on the model's own .bin inputs (what pic2bin, image2bin
or inf_input2bin wrote), a fixed number of them drawn with a seed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from common.cli import StageError, first_line
from common.files import atomic_path
from common.modelspec import ModelSpec, read_sidecar, write_sidecar

FP16_MODES = ("allow_fp32_to_fp16", "force_fp16")


def to_fp16(src: str | Path, dst: str | Path, mode: str = "allow_fp32_to_fp16") -> Path:
    import onnx
    from onnxconverter_common import float16

    model = onnx.load(str(src))
    kwargs = {"op_block_list": []} if mode == "force_fp16" else {}
    # check_fp16_ready off: a graph that already ends in a float16 Cast (MobileFaceNet's
    # the_outputs) is not "already converted"; its float32 body still is.
    half = float16.convert_float_to_float16(model, keep_io_types=True, check_fp16_ready=False, **kwargs)
    with atomic_path(dst, suffix=".onnx") as tmp:
        onnx.save(half, str(tmp))
    return _copy_sidecar(src, dst)


def calibration_feeds(bin_dir: str | Path, spec: ModelSpec, batches: int, seed: int = 0) -> list[dict]:
    """Up to ``batches`` input batches of a one-input model, drawn with ``seed`` from the .bin
    files of ``bin_dir`` (each one batch at the model's input shape)."""
    from common.binio import read_bin

    if len(spec.inputs) != 1:
        raise StageError(f"--calibration_dir: expected a model with one input, found {[t.name for t in spec.inputs]}")
    (tensor,) = spec.inputs
    files = sorted(Path(bin_dir).glob("*.bin")) if Path(bin_dir).is_dir() else []
    if not files:
        raise StageError(f"{bin_dir}: expected the model's .bin inputs for int8 calibration, found "
                         f"{'none' if Path(bin_dir).is_dir() else 'nothing'}")
    shape = [d if d not in (None, -1) else 1 for d in tensor.shape]
    chosen = np.random.default_rng(seed).permutation(len(files))[:batches]
    return [{tensor.name: read_bin(files[i], shape, tensor.dtype)} for i in sorted(chosen)]


def to_int8(src: str | Path, dst: str | Path, feeds: list[dict]) -> Path:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model, source = onnx.load(str(src)), Path(src)
    weights = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in weights]  # the runtime's inputs

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{n: next(v for k, v in f.items() if k.split(":")[0] == n.split(":")[0])
                                  for n in names} for f in feeds])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory(prefix="quantize_") as scratch, atomic_path(dst, suffix=".onnx") as tmp:
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        if opset < 13:  # per-channel DequantizeLinear needs opset 13 (paddle2onnx writes 11)
            from onnx import version_converter

            source = Path(scratch) / "opset13.onnx"
            onnx.save(version_converter.convert_version(model, 13), str(source))
        pre = Path(scratch) / "pre.onnx"  # shapes inferred and graph optimised, as ORT recommends
        quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
        # uint8 activations with int8 weights: x86's fast integer path (VNNI / VPMADDUBSW); with
        # int8 activations MobileFaceNet and PFE ran slower than in fp32 on this CPU. Ranges from
        # the 99.999th percentile rather than the extremes, which lost PFE more cosine accuracy
        # in a one-off check.
        def quantize(method):
            quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=method)

        try:
            quantize(CalibrationMethod.Percentile)
        except ValueError as err:  # a (near-)constant tensor has no histogram to take a percentile of
            print(f"[INFO] percentile calibration failed ({first_line(err)}); calibrating on min/max instead")
            quantize(CalibrationMethod.MinMax)
    return _copy_sidecar(src, dst)


def _copy_sidecar(src, dst) -> Path:
    spec = read_sidecar(src)
    if spec is not None:
        write_sidecar(dst, spec)
    return Path(dst)
