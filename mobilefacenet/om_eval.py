"""msame over bin_input/ with the original om_eval.sh's paths (BIN output, one file per image).

    python -m mobilefacenet.om_eval --model tf_MobileFaceNet.om --input bin_input --output om_output

An .om runs through the real msame; MobileFaceNet.pb/.onnx through the portable runner, whose
BIN files carry float16 embeddings exactly as the om writes them.
"""

import sys

from common import msame


def main(argv=None) -> msame.MsameResult:
    p = msame.build_parser("mobilefacenet om_eval", model="tf_MobileFaceNet.om", input="./bin_input",
                           output="./om_output")
    return msame.main(argv, p)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
