"""`microexpression STAGE [flags]`: run one stage of the MicroExpression pipeline (PaddlePaddle)."""

import sys

from common.cli import dispatch
from common.models import MODELS


def main(argv=None) -> int:
    return dispatch("microexpression", MODELS["microexpression"].stages, argv)


if __name__ == "__main__":
    sys.exit(main())
