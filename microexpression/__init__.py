"""MicroExpression: a PaddlePaddle ResNet micro-expression classifier (CASME II layout)."""

import os


def _mkl_avx2_on_amd() -> None:
    """Paddle's bundled MKL (mklml) takes a generic SSE path on AMD CPUs, at a third of the
    AVX2 rate; MKL_DEBUG_CPU_TYPE=5 selects the AVX2 kernels (benchmarks in docs/benchmarks.md).
    MKL reads it at its first call, so this works as long as no Paddle op ran yet; a value the
    user set wins."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            head = f.read(8192)
    except OSError:
        return
    if "AuthenticAMD" in head and " avx2" in head:
        os.environ.setdefault("MKL_DEBUG_CPU_TYPE", "5")


_mkl_avx2_on_amd()
