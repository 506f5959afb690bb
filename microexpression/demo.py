"""The whole MicroExpression flow on synthetic CASME II frames, ending in a top-1/top-5 table.

    microexpression demo --workdir demo_out/microexpression

synthetic classification2/ -> annotate (subject split) -> train (resnet18 at 64x64 from
scratch: no ImageNet weights offline) -> evaluate (+ confusion.png) -> predict (predictions.png)
-> export -> infer (paddle.inference) -> onnx, each printed as the command a user would type.
Everything stays under --workdir. All numbers are measured on synthetic faces.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from common.cli import parser, positive_int
from common.demo import run_stage, write_results


def build_parser():
    p = parser("microexpression demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", default="demo_out/microexpression", help="folder for every artefact")
    p.add_argument("--subjects", type=positive_int, default=24)
    p.add_argument("--frames_per_clip", type=int, default=2, help="frames per clip (near-duplicates of each other)")
    p.add_argument("--amplitude", type=float, default=0.9,
                   help="expression strength of the synthetic frames (the data default 0.45 is subtler)")
    p.add_argument("--epochs", type=positive_int, default=6)
    p.add_argument("--image_size", type=positive_int, default=64)
    p.add_argument("--arch", default="resnet18", choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--learning_rate", type=float, default=0.02)
    p.add_argument("--crop_min", type=float, default=0.6,
                   help="smallest RandomResizedCrop area (the original's 0.08 leaves too little face at 64px)")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from microexpression import annotate, evaluate, export, export_onnx, infer, predict, train

    work = Path(a.workdir)
    started = time.time()
    print(f"=== synthetic CASME II frames\n$ python -m common.synthetic casme2 --out {work / 'data'} "
          f"--subjects {a.subjects} --frames_per_clip {a.frames_per_clip} --amplitude {a.amplitude} --seed {a.seed}",
          flush=True)
    root = synthetic.make_casme2(work / "data", subjects=a.subjects, frames_per_clip=a.frames_per_clip,
                                 amplitude=a.amplitude, seed=a.seed)
    stage = lambda title, module, argv: run_stage("microexpression", title, module, argv)  # noqa: E731
    stage("annotate", annotate, ["--data_root", str(root), "--split", "subject", "--seed", str(a.seed)])
    model = work / "output" / "MicroExpression"
    sets = ["--set", f"image_shape=[3,{a.image_size},{a.image_size}]", "--set", f"epochs={a.epochs}",
            "--set", "batch_size=16", "--set", f"crop_scale=[{a.crop_min},1.0]", "--set", f"LEARNING_RATE.params.lr={a.learning_rate}",
            "--set", f"model_save_dir={model}"]
    stage("train", train, ["--data_root", str(root), "--arch", a.arch, "--save_dir", str(work / "chk_points"),
                           "--log_dir", str(work / "visualdl_log"), "--seed", str(a.seed), *sets])
    stage("evaluate", evaluate, ["--model", str(model), "--data_root", str(root), "--plot", str(work / "confusion.png")])
    stage("predict", predict, ["--model", str(model), "--data_root", str(root), "--picture",
                               str(work / "predictions.png")])
    infer_prefix = work / "infer" / "MicroExpression"
    stage("export", export, ["--model", str(model), "--output", str(infer_prefix)])
    stage("infer", infer, ["--model", str(infer_prefix), "--images", str(root / "test" / "happiness"),
                           "--set", f"image_shape=[3,{a.image_size},{a.image_size}]"])
    stage("onnx", export_onnx, ["--model", str(infer_prefix), "--output", str(work / "onnx" / "MicroExpression.onnx"),
                         "--image_shape", f"3,{a.image_size},{a.image_size}"])
    top1, top5, _, names, count = evaluate.scores(str(model), root)
    results = {"data": f"synthetic CASME II, {a.subjects} subjects, amplitude {a.amplitude}, subject split, "
                       f"seed {a.seed}",
               "test_images": count, "top1": top1, "top5": top5, "chance_top1": 1 / len(names),
               "arch": a.arch, "image_size": a.image_size, "epochs": a.epochs,
               "total_seconds": time.time() - started,
               "command": "microexpression demo " + shlex.join(argv if argv is not None else sys.argv[2:])}
    table = "\n".join([
        "| MicroExpression | data | split | top-1 | top-5 |",
        "|---|---|---|---|---|",
        "| original notebook (ResNet50, ImageNet start) | CASME II frames | random 6:2:2 (leaky) | not published | |",
        f"| this demo, **synthetic** ({a.arch}, {a.image_size}px, {a.epochs} epochs from scratch) | {count} test frames "
        f"(chance {1 / len(names):.3f}) | by subject | {top1:.3f} | {top5:.3f} |",
    ])
    write_results(work, table, results, ["confusion.png", "predictions.png"])
    return 0


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
