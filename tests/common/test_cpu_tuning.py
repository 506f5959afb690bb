"""The packages' CPU settings take effect on import, and a user's own setting wins."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("MALLOC_", "GLIBC_TUNABLES", "FACEZOO_", "TF_ENABLE_ONEDNN_OPTS", "MKL_DEBUG_CPU_TYPE")

# Allocate, touch and free 64 MiB ten times after one warm-up round; print the page faults.
FAULTS = """
import resource
import numpy as np
import {package}  # noqa: F401
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.empty(64 << 20, np.uint8); a.fill(1); del a
start = faults()
for _ in range(10):
    a = np.empty(64 << 20, np.uint8); a.fill(1); del a
print(faults() - start)
"""

ONEDNN = """
import {package}  # noqa: F401
from tensorflow.python.util import _pywrap_util_port
print(_pywrap_util_port.IsMklEnabled())
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and oneDNN settings are for Linux")


def last_word(script: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


@linux_only
def test_importing_microexpression_makes_freed_blocks_reusable():
    baseline = int(last_word(FAULTS.format(package="json")))  # json leaves malloc alone
    assert baseline > 100, "glibc should unmap a freed 64 MiB block and fault it in again"
    assert int(last_word(FAULTS.format(package="microexpression"))) < baseline / 10


@linux_only
def test_malloc_settings_of_the_user_win():
    baseline = int(last_word(FAULTS.format(package="json")))
    assert int(last_word(FAULTS.format(package="microexpression"), FACEZOO_SYSTEM_MALLOC="1")) > baseline / 2
    assert int(last_word(FAULTS.format(package="microexpression"), MALLOC_ARENA_MAX="4")) > baseline / 2


@linux_only
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="oneDNN switch is set on x86 only")
def test_tensorflow_packages_run_onednn_kernels_unless_turned_off():
    assert last_word(ONEDNN.format(package="covpoolfer")) == "True"
    assert last_word(ONEDNN.format(package="covpoolfer"), TF_ENABLE_ONEDNN_OPTS="0") == "False"
