#!/usr/bin/env bash
# MicroExpression training with the original notebook's settings (ResNet50, 20 epochs, batch 32,
# Momentum + cosine lr 0.00375, L2 1e-6), after writing the annotation files.
# Usage: microexpression/train.sh [DATA_ROOT] [PRETRAINED.pdparams] [extra train flags...]
set -euo pipefail
DATA=${1:-classification2}
PRETRAINED=${2:-}
shift 2 || shift $# || true
python -m microexpression.annotate --data_root "$DATA" --split folders
python -m microexpression.train --data_root "$DATA" --arch resnet50 ${PRETRAINED:+--pretrained "$PRETRAINED"} "$@"
python -m microexpression.evaluate --model ./output/MicroExpression --data_root "$DATA" --plot confusion.png
