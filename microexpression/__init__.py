"""MicroExpression: a PaddlePaddle ResNet micro-expression classifier (CASME II layout)."""

from common.cpu_tuning import keep_freed_memory, use_mkl_avx2_on_amd

# Before Paddle is imported and starts its threads (see common/cpu_tuning.py).
use_mkl_avx2_on_amd()
keep_freed_memory()
