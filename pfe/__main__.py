"""`pfe STAGE [flags]`: run one stage of the PFE pipeline."""

import sys

from common.cli import dispatch

STAGES = {
    "convert_checkpoint": "pfe.convert_checkpoint",
    "train_base": "pfe.train_base",
    "train": "pfe.train",
    "ckpt2pb": "pfe.ckpt2pb",
    "inf_input2bin": "pfe.inf_input2bin",
    "pb2om": "pfe.pb2om",
    "om_inf": "pfe.om_inf",
    "msame": "common.msame",
    "atc": "common.atc",
    "om_output_inf": "pfe.om_output_inf",
    "om_output_acc": "pfe.om_output_inf",
    "eval_lfw": "pfe.eval_lfw",
    "eval_ijb": "pfe.eval_ijb",
    "verify": "pfe.verify",
    "demo": "pfe.demo",
    "bench": "pfe.bench",
}


def main(argv=None) -> int:
    return dispatch("pfe", STAGES, argv)


if __name__ == "__main__":
    sys.exit(main())
