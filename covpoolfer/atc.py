"""atc for CovPoolFER with the original line's defaults (portable .pb when atc is absent).

    python -m covpoolfer.atc --model=CovPoolFER.pb --output=om/CovPoolFER
runs: atc --model=CovPoolFER.pb --framework=3 --output=om/CovPoolFER --soc_version=Ascend310
      --input_shape="inputImage:128,100,100,3" --log=info --out_nodes="output:0"

covpoolfer/precision_tool/fusion_switch.cfg is the training port's switch file (every graph
and UB fusion off but MatrixSetDiagFusionPass); add --fusion_switch_file=<that path> to use it
(the original line does not).
"""

import sys

from common import atc


def main(argv=None) -> atc.AtcResult:
    p = atc.build_parser("covpoolfer atc", model="CovPoolFER.pb", output="CovPoolFER",
                         input_shape="inputImage:128,100,100,3", log="info", out_nodes="output:0")
    return atc.main(argv, p)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
