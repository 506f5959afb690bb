"""atc for MobileFaceNet with the original line's defaults (portable .pb/.onnx when atc is absent).

    python -m mobilefacenet.atc --model=pb_model/MobileFaceNet.pb --output=tf_MobileFaceNet
runs: atc --model=MobileFaceNet.pb --framework=3 --output=tf_MobileFaceNet --soc_version=Ascend310
      --input_shape='Placeholder:1,112,112,3' --precision_mode=allow_fp32_to_fp16
      --op_select_implmode=high_precision
"""

import sys

from common import atc


def main(argv=None) -> atc.AtcResult:
    p = atc.build_parser("mobilefacenet atc", model="MobileFaceNet.pb", output="tf_MobileFaceNet",
                         input_shape="Placeholder:1,112,112,3", precision_mode="allow_fp32_to_fp16",
                         op_select_implmode="high_precision")
    return atc.main(argv, p)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
