#!/usr/bin/env bash
# CovPoolFER training with the Ascend port's settings (covpoolnet2, 95 epochs of 95 steps, batch 128).
# Usage: covpoolfer/train.sh [DATA_DIR] [extra flags...]   (DATA_DIR holds Train/ and val/)
set -euo pipefail
DATA_DIR=${1:-data/SFEW_100}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
python -m covpoolfer.train --logs_base_dir logs/ --models_base_dir models/ --data_dir "$DATA_DIR" \
    --image_size 100 --model_def covpoolnet2 --optimizer ADAM --learning_rate -1 --max_nrof_epochs 95 \
    --keep_probability 0.8 --learning_rate_schedule_file "$HERE/data/learning_rate.txt" \
    --weight_decay 5e-2 --center_loss_factor 1e-2 --center_loss_alfa 0.9 --epoch_size 95 --batch_size 128 "$@"
