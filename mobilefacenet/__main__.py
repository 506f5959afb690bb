"""`mobilefacenet STAGE [flags]`: run one stage of the mobilefacenet pipeline."""

import sys

from common.cli import dispatch

STAGES = {
    "msame": "common.msame",
    "atc": "common.atc",
}


def main(argv=None) -> int:
    return dispatch("mobilefacenet", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
