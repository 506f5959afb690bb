"""`mobilefacenet STAGE [flags]`: run one stage of the MobileFaceNet pipeline."""

import sys

from common.cli import dispatch

STAGES = {
    "convert_checkpoint": "mobilefacenet.convert_checkpoint",
    "convert_recordio": "mobilefacenet.convert_recordio",
    "train_nets": "mobilefacenet.train_nets",
    "inference": "mobilefacenet.inference",
    "verify": "mobilefacenet.verify",
    "search": "mobilefacenet.search",
    "ckpt2pb": "mobilefacenet.ckpt2pb",
    "image2bin": "mobilefacenet.image2bin",
    "atc": "mobilefacenet.atc",
    "om_eval": "mobilefacenet.om_eval",
    "msame": "common.msame",
    "calculate_om_acc": "mobilefacenet.calculate_om_acc",
    "demo": "mobilefacenet.demo",
    "bench": "mobilefacenet.bench",
}


def main(argv=None) -> int:
    return dispatch("mobilefacenet", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
