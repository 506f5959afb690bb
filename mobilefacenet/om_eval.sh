#!/usr/bin/env bash
# The original om_eval.sh: msame over bin_input/ (BIN output), then the LFW accuracy.
# Usage: mobilefacenet/om_eval.sh [MODEL (.om, or .pb/.onnx for the portable runner)] [LFW_BIN]
set -euo pipefail
MODEL=${1:-./tf_MobileFaceNet.om}
LFW=${2:-./lfw.bin}
python -m mobilefacenet.om_eval --model "$MODEL" --input ./bin_input --output ./om_output
python -m mobilefacenet.calculate_om_acc --om_output ./om_output/"$(ls -t ./om_output | head -1)" --eval_dataset "$LFW"
