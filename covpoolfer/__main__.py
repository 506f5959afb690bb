"""`covpoolfer STAGE [flags]`: run one stage of the CovPoolFER pipeline."""

import sys

from common.cli import dispatch

STAGES = {
    "prepare": "covpoolfer.prepare",
    "convert_checkpoint": "covpoolfer.convert_checkpoint",
    "train": "covpoolfer.train",
    "ckpt2pb": "covpoolfer.ckpt2pb",
    "pic2bin": "covpoolfer.pic2bin",
    "atc": "covpoolfer.atc",
    "msame": "covpoolfer.msame",
    "getAcc": "covpoolfer.getAcc",
    "classify": "covpoolfer.classify",
    "predict": "covpoolfer.predict",
    "demo": "covpoolfer.demo",
    "bench": "covpoolfer.bench",
}


def main(argv=None) -> int:
    return dispatch("covpoolfer", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
