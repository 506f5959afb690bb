"""Export the inference model: `<out>.json` + `.pdiparams` (Paddle 3), input `image` [-1,3,H,W].

    python -m microexpression.export --model output/MicroExpression --output infer/MicroExpression

--legacy writes the pre-PIR `<out>.pdmodel` instead (what Paddle-Lite's opt reads), through
paddle.jit.save under OldIrGuard; Model.save(training=False) in Paddle 3 writes only `.json`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_file, parser


def main(argv=None) -> dict:
    p = parser("microexpression export", __doc__.strip().splitlines()[0])
    p.add_argument("--model", default="./output/MicroExpression", help="train's model_save_dir prefix")
    p.add_argument("--output", type=output_file, default="infer/MicroExpression", help="output prefix")
    p.add_argument("--legacy", action="store_true", help="write .pdmodel (old IR) instead of .json")
    a = p.parse_args(argv)
    import paddle

    from common.files import write_text_atomic
    from common.modelspec import ModelSpec, TensorSpec
    from microexpression.models.checkpoints import restore_model
    from microexpression.models.resnet import input_spec

    model, config, _ = restore_model(a.model)
    net = model.network
    Path(a.output).parent.mkdir(parents=True, exist_ok=True)
    net.eval()
    if a.legacy:
        with paddle.pir_utils.OldIrGuard():
            paddle.jit.save(net, a.output, input_spec=input_spec(config["image_shape"]))
        graph = f"{a.output}.pdmodel"
    else:
        model.save(a.output, training=False)
        graph = f"{a.output}.json"
    # paddle.inference does not report the input shape before a run: the spec says it for msame.
    spec = ModelSpec([TensorSpec("image", [None, *config["image_shape"]])],
                     [TensorSpec("logits", [None, config["num_classes"]])])
    write_text_atomic(f"{a.output}.spec.json", spec.to_json())
    print(f"wrote {graph}, {a.output}.pdiparams and {a.output}.spec.json: input image "
          f"[-1, {', '.join(map(str, config['image_shape']))}] -> {config['num_classes']} logits")
    return {"prefix": Path(a.output), "graph": Path(graph), "image_shape": config["image_shape"]}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
