"""LFW accuracy from msame outputs: <i>_output_0.bin embeddings with the .bin's issame list.

    python -m mobilefacenet.calculate_om_acc --om_output om_output/<timestamp> --eval_dataset lfw.bin

Reads one embedding per image (float16 as the om writes it; --dtype float32 for a float32
graph), no re-normalisation and no flip, and scores the insightface 10-fold protocol as the
original: `Accuracy: %1.3f` and the mean best threshold.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

from common.cli import StageError, parser

if TYPE_CHECKING:
    from common.metrics import VerificationResult


def om_accuracy(om_output, eval_dataset, dtype: str = "float16", embedding_size: int = 128):
    """The 10-fold verification result of the msame embeddings of every image of a .bin."""
    from common.binio import read_bin
    from common.msame import check_no_extra_outputs, resolve_output_dir
    from mobilefacenet.data import read_verification_bin
    from mobilefacenet.embedding import verify

    out = resolve_output_dir(om_output)
    bins, issame = read_verification_bin(eval_dataset)
    missing = [i for i in range(len(bins)) if not (out / f"{i}_output_0.bin").is_file()]
    if missing:
        raise StageError(f"{out}: expected <i>_output_0.bin for all {len(bins)} images of {eval_dataset}, "
                         f"missing {len(missing)} (first: {missing[0]}_output_0.bin)")
    check_no_extra_outputs(out, {f"{i}_output_0.bin" for i in range(len(bins))}, f"{eval_dataset}'s {len(bins)} images")
    emb = np.stack([read_bin(out / f"{i}_output_0.bin", (embedding_size,), dtype) for i in range(len(bins))])
    return verify(emb.astype(np.float64), issame)


def main(argv=None) -> VerificationResult:
    p = parser("mobilefacenet calculate_om_acc", __doc__.strip().splitlines()[0])
    p.add_argument("--om_output", required=True, help="msame timestamp folder (or the root holding one)")
    p.add_argument("--eval_dataset", default="lfw.bin", help="the verification .bin the inputs came from")
    p.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    p.add_argument("--embedding_size", type=int, default=128)
    a = p.parse_args(argv)
    result = om_accuracy(a.om_output, a.eval_dataset, a.dtype, a.embedding_size)
    print(f"Accuracy: {result.accuracy:1.3f}")
    print(f"accuracy {result.accuracy:.4f} +- {result.std:.4f}, best threshold {result.threshold:.2f} "
          f"(mean of {len(result.thresholds)} folds)")
    return result


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
