"""`covpoolfer STAGE [flags]`: run one stage of the CovPoolFER pipeline."""

import sys

from common.cli import dispatch
from common.models import MODELS


def main(argv=None) -> int:
    return dispatch("covpoolfer", MODELS["covpoolfer"].stages, argv)


if __name__ == "__main__":
    sys.exit(main())
