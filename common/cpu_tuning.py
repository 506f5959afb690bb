"""CPU settings the frameworks do not pick on their own; the packages apply them on import.

Each must be in place before TensorFlow or Paddle run their first op, which is why the
package ``__init__`` modules call them. A value the user set in the environment always wins.
Before/after timings for each are in docs/benchmarks.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys

# mallopt() parameters from glibc's <malloc.h>.
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
# The same settings as environment variables, plus glibc tunables: if any is set, glibc's
# behaviour is the user's choice and keep_freed_memory() leaves it alone.
MALLOC_SETTINGS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_",
                   "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")
SYSTEM_MALLOC = "FACEZOO_SYSTEM_MALLOC"  # set to 1 to keep glibc's defaults


def keep_freed_memory(arenas: int = 1) -> bool:
    """Keep freed memory in the process (glibc): no mmap for large blocks, no heap trimming,
    at most ``arenas`` malloc arenas.

    glibc serves each block above 32 MiB with a fresh mmap and unmaps it on free, so every
    step faults its buffers in again page by page (Paddle's MicroExpression step at batch 32
    loses ~2.5 s of 15 s to it; TensorFlow with oneDNN reuses its buffers and gains nothing, so
    only microexpression calls this). The price is a higher resident peak. Returns True when
    applied; False on another libc, or when the user set MALLOC_* / GLIBC_TUNABLES or
    FACEZOO_SYSTEM_MALLOC=1.
    """
    if not sys.platform.startswith("linux") or os.environ.get(SYSTEM_MALLOC, "") not in ("", "0"):
        return False
    if any(name in os.environ for name in MALLOC_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # glibc's mallopt returns 1 on success; musl's is a stub that returns 0.
    applied = [mallopt(M_ARENA_MAX, arenas), mallopt(M_MMAP_MAX, 0),
               mallopt(M_TRIM_THRESHOLD, 2**31 - 1)]
    return all(applied)


def use_onednn_in_tensorflow() -> None:
    """TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX-512 VNNI or
    newer; on AVX2 machines its own Eigen kernels make a CovPoolFER training step about 27 %
    and a MobileFaceNet step about 14 % slower. Results differ by float round-off only. Takes
    effect only if TensorFlow has not been imported yet."""
    if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64"):
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def use_mkl_avx2_on_amd() -> None:
    """Paddle's bundled MKL (mklml) takes a generic SSE path on AMD CPUs, at a third of the
    AVX2 rate; MKL_DEBUG_CPU_TYPE=5 selects the AVX2 kernels. MKL reads it at its first call."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            head = f.read(8192)
    except OSError:
        return
    if "AuthenticAMD" in head and " avx2" in head:
        os.environ.setdefault("MKL_DEBUG_CPU_TYPE", "5")
