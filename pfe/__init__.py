"""pfe pipeline."""

from common.cpu_tuning import keep_freed_memory, use_onednn_in_tensorflow

# Before TensorFlow is imported and starts its threads (see common/cpu_tuning.py).
use_onednn_in_tensorflow()
keep_freed_memory()
