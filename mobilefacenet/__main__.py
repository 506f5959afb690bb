"""`mobilefacenet STAGE [flags]`: run one stage of the MobileFaceNet pipeline."""

import sys

from common.cli import dispatch
from common.models import MODELS


def main(argv=None) -> int:
    return dispatch("mobilefacenet", MODELS["mobilefacenet"].stages, argv)


if __name__ == "__main__":
    sys.exit(main())
