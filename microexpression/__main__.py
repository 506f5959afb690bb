"""`microexpression STAGE [flags]`: run one stage of the microexpression pipeline."""

import sys

from common.cli import dispatch

STAGES = {
    "msame": "common.msame",
}


def main(argv=None) -> int:
    return dispatch("microexpression", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
