"""msame for PFE with om_inf.sh's line: BIN output, <i>_output_0.bin (mu), <i>_output_1.bin (sigma_sq).

    python -m pfe.om_inf --model om_pfe.om --input input_bin --output output_bin

An .om runs through the real msame; PFE.pb/.onnx through the portable runner.
"""

import sys

from common import msame


def main(argv=None) -> msame.MsameResult:
    p = msame.build_parser("pfe om_inf", model="om_pfe.om", input="./input_bin", output="./output_bin")
    return msame.main(argv, p)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
