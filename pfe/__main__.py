"""`pfe STAGE [flags]`: run one stage of the PFE pipeline."""

import sys

from common.cli import dispatch
from common.models import MODELS


def main(argv=None) -> int:
    return dispatch("pfe", MODELS["pfe"].stages, argv)


if __name__ == "__main__":
    sys.exit(main())
