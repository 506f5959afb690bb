"""covpoolfer pipeline."""

from common.cpu_tuning import use_onednn_in_tensorflow

# Before TensorFlow is imported (see common/cpu_tuning.py).
use_onednn_in_tensorflow()
