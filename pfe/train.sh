#!/usr/bin/env bash
# PFE with config/sphere64_casia.py's recipe: a base (made here, none can be downloaded), then the
# uncertainty head (64 x 4 batches, Momentum 0.9, lr 1e-3 -> 1e-4 at step 2000, 3000 steps).
# Usage: pfe/train.sh CASIA_DIR [BASE_RUN]   (BASE_RUN skips train_base)
set -euo pipefail
DATA=${1:-data/casia_mtcnncaffe_aligned}
BASE=${2:-}
if [ -z "$BASE" ]; then
    python -m pfe.train_base --data_dir "$DATA" --models_dir base_models/ --logs_dir logs/base --depth 64
    BASE=base_models/$(ls -t base_models | head -1)
fi
python -m pfe.train --base_model "$BASE" --data_dir "$DATA" --models_dir log/sphere64_casia_am_PFE \
    --logs_dir logs/pfe --num_classes_per_batch 64 --images_per_class 4 --learning_rate 1e-3 \
    --lr_drop_step 2000 --learning_rate_after_drop 1e-4 --num_steps 3000 --weight_decay 5e-4
