#!/usr/bin/env bash
# The original om_inf.sh. Usage: pfe/om_inf.sh [MODEL] [INPUT_DIR] [OUTPUT_DIR]
set -euo pipefail
python -m pfe.om_inf --model "${1:-./om_pfe.om}" --input "${2:-./input_bin}" --output "${3:-./output_bin}"
