"""msame's output formats: TXT bytes (the C++ %g rule), BIN sizes, timestamp folder names."""

import math
from datetime import datetime

import numpy as np
import pytest

from common.msame import format_txt, model_stem, msame_timestamp


def reference_txt(arr) -> bytes:
    """The brief's Python emulation of msame's TXT writer, checked against real C++ output."""
    a = np.asarray(arr)
    flat = a.reshape(-1)
    every = a.shape[-1] if a.ndim >= 2 else 0
    out = []
    for i, v in enumerate(flat, 1):
        if a.dtype.kind == "f":
            x = float(v)
            s = ("-nan" if np.signbit(x) else "nan") if math.isnan(x) else "%g" % x
        else:
            s = str(int(v))
        out.append(s + " ")
        if every and i % every == 0:
            out.append("\n")
    return "".join(out).encode()


@pytest.mark.parametrize("shape", [(128,), (128, 7), (1, 512), (2, 3, 4)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
def test_txt_matches_reference_rule(shape, dtype):
    rng = np.random.default_rng(0)
    arr = (rng.normal(0, 1000, shape) if dtype == "int32" else rng.normal(0, 3, shape)).astype(dtype)
    data = format_txt(arr)
    assert data == reference_txt(arr)
    lines = data.split(b"\n")
    if len(shape) == 1:
        assert b"\n" not in data and data.endswith(b" ")
    else:
        rows = int(np.prod(shape[:-1]))
        assert data.count(b"\n") == rows and data.endswith(b" \n")
        assert all(len(line.split()) == shape[-1] for line in lines[:-1])


def test_txt_cpp_number_formatting():
    arr = np.array([0.1, 1e-5, 123456789.0, -0.0, 3.14159265, 12345.678, np.inf, -np.inf, 1.0],
                   np.float32)
    assert format_txt(arr) == b"0.1 1e-05 1.23457e+08 -0 3.14159 12345.7 inf -inf 1 "
    nan = np.array([np.nan, -np.nan], np.float32)
    assert format_txt(np.copysign(nan, [1, -1]).astype(np.float32)) == b"nan -nan "


def test_txt_int8_is_streamed_as_chars():
    assert format_txt(np.array([65, 66], np.int8)) == b"A B "


def test_timestamp_styles():
    t = datetime(2022, 1, 20, 0, 50, 11, 580762)
    assert msame_timestamp(t) == "2022120_0_50_11_580762"
    assert msame_timestamp(t, "legacy") == "20220120_005011"


def test_model_stem_is_text_between_last_slash_and_last_dot():
    assert model_stem("./tf_MobileFaceNet.om") == "tf_MobileFaceNet"
    assert model_stem("out/a.b/CovPoolFER.pb") == "CovPoolFER"
