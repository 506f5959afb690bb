#!/usr/bin/env bash
# The original pb2om.sh. Usage: pfe/pb2om.sh [PB] [OUTPUT]   (without atc: the portable artefact)
set -euo pipefail
python -m pfe.pb2om --model="${1:-./pb_model/PFE.pb}" --output="${2:-./om_pfe}"
