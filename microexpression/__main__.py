"""`microexpression STAGE [flags]`: run one stage of the MicroExpression pipeline (PaddlePaddle)."""

import sys

from common.cli import dispatch

STAGES = {
    "annotate": "microexpression.annotate",
    "train": "microexpression.train",
    "loso": "microexpression.loso",
    "evaluate": "microexpression.evaluate",
    "predict": "microexpression.predict",
    "export": "microexpression.export",
    "infer": "microexpression.infer",
    "onnx": "microexpression.export_onnx",
    "lite": "microexpression.lite",
    "msame": "common.msame",
    "demo": "microexpression.demo",
    "bench": "microexpression.bench",
}


def main(argv=None) -> int:
    return dispatch("microexpression", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
