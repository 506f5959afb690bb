#!/usr/bin/env bash
# MobileFaceNet training with the Ascend port's settings (CosFace s64 m0.35, Adam eps 0.1, batch 64,
# 10 epochs of at most 52,000 steps, wd 5e-5) but with the learning-rate schedule advancing.
# Usage: mobilefacenet/train.sh TFRECORDS LFW_BIN [extra flags...]   (e.g. --variant repo --resume)
set -euo pipefail
TFRECORDS=${1:-datasets/tfrecords/tran.tfrecords}
LFW=${2:-datasets/faces_ms1m_112x112/lfw.bin}
shift 2 || true
python -m mobilefacenet.train_nets --tfrecords "$TFRECORDS" --eval_datasets "$LFW" \
    --models_dir output/ckpt --logs_dir output/summary --loss cosface --max_epoch 10 \
    --train_batch_size 64 --lr_values 0.01,0.001,0.001,0.0001,0.00001 --lr_boundaries 1,4,6,8 \
    --weight_decay 5e-5 --prelogit_norm_factor 5e-5 --adam_epsilon 0.1 "$@"
