"""Convert an original CovPoolFER TF1 checkpoint into one of our run folders (checkpoint + config.json).

    python -m covpoolfer.convert_checkpoint --ckpt_path 20170815-144407/ --output_dir models/sfew_original

The run folder works wherever one of our training runs does: ckpt2pb, classify, and
`train --pretrained_model` to go on training from the author's weights. The architecture
(covpoolnet or covpoolnet2, bottleneck size, classes) is read off the variable names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_convert_args, parser
from common.models import SFEW_CLASSES


def main(argv=None) -> dict:
    p = parser("covpoolfer convert_checkpoint", __doc__.strip().splitlines()[0])
    add_convert_args(p, "model-<run>.ckpt-<step>")
    a = p.parse_args(argv)

    from common.tf import tf1_import
    from covpoolfer.models.checkpoints import load_original

    prefix = tf1_import.original_prefix(a.ckpt_path)
    model, config = load_original(prefix, a.use_ema)
    if config["num_classes"] == len(SFEW_CLASSES):
        config["classes"] = SFEW_CLASSES
    saved = tf1_import.write_converted(prefix, a.output_dir, config, a.use_ema, a.overwrite, model=model)
    print(f"wrote {saved} ({config['model_def']}, scope {config['scope']}, embedding {config['embedding_size']}, "
          f"{config['num_classes']} classes) from {prefix}")
    return {"run_dir": Path(a.output_dir), "checkpoint": saved, "config": config}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
