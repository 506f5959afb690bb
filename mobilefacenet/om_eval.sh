#!/usr/bin/env bash
# The original om_eval.sh: msame over the image2bin folder (BIN output), then the LFW accuracy.
# Usage: mobilefacenet/om_eval.sh [MODEL] [LFW_BIN] [INPUT_DIR] [OUTPUT_DIR]
#   MODEL: tf_MobileFaceNet.om (real msame), or the .pb/.onnx for the portable runner.
set -euo pipefail
MODEL=${1:-./tf_MobileFaceNet.om}
LFW=${2:-./lfw.bin}
INPUT=${3:-./bin_input}
OUTPUT=${4:-./om_output}
python -m mobilefacenet.om_eval --model "$MODEL" --input "$INPUT" --output "$OUTPUT"
python -m mobilefacenet.calculate_om_acc --om_output "$OUTPUT/$(ls -t "$OUTPUT" | head -1)" --eval_dataset "$LFW"
