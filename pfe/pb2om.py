"""atc for PFE with pb2om.sh's line (portable .pb/.onnx when atc is absent).

    python -m pfe.pb2om --model=pb_model/PFE.pb --output=om_pfe
runs: atc --model=pb_model/PFE.pb --framework=3 --output=om_pfe --soc_version=Ascend310
      --input_shape="input:1,112,96,3" --log=info --out_nodes="mu:0;sigma_sq:0"
      --precision_mode=allow_fp32_to_fp16 --op_select_implmode=high_precision
"""

import sys

from common import atc


def main(argv=None) -> atc.AtcResult:
    p = atc.build_parser("pfe pb2om", model="pb_model/PFE.pb", output="om_pfe", input_shape="input:1,112,96,3",
                         log="info", out_nodes="mu:0;sigma_sq:0", precision_mode="allow_fp32_to_fp16",
                         op_select_implmode="high_precision")
    return atc.main(argv, p)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
