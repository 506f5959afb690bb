"""The whole MobileFaceNet chain on synthetic MS1M and LFW, ending in the original README's table.

    mobilefacenet demo --workdir demo_out/mobilefacenet

synthetic MS1M (.rec/.idx) -> convert_recordio -> train_nets -> inference -> ckpt2pb ->
image2bin -> atc -> om_eval (portable msame, float16 BIN) -> calculate_om_acc, each printed as
the command a user would type. Everything stays under --workdir. All numbers are measured on
synthetic faces (LFW people never appear in the training identities), not on LFW.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from common.cli import parser, positive_int
from common.demo import folder_names, newest_new_folder, run_stage, write_results

# The Ascend port's README (om on Ascend 310, batch 1) and the paper (MS1M, ArcFace).
ORIGINAL = {"om": 0.987, "paper": 0.9955}


def build_parser():
    p = parser("mobilefacenet demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", default="demo_out/mobilefacenet", help="folder for every artefact")
    p.add_argument("--identities", type=int, default=60, help="synthetic MS1M identities")
    p.add_argument("--images_per_identity", type=int, default=12)
    p.add_argument("--lfw_pairs_per_fold", type=int, default=10, help="genuine (= impostor) pairs per fold")
    p.add_argument("--variant", default="paper", choices=["paper", "repo"])
    p.add_argument("--loss", default="cosface", choices=["cosface", "arcface"])
    p.add_argument("--max_epoch", type=positive_int, default=4)
    p.add_argument("--steps_per_epoch", type=positive_int, default=25)
    p.add_argument("--train_batch_size", type=positive_int, default=32)
    p.add_argument("--seed", type=int, default=0)
    return p


def _stage(title: str, module, argv: list[str]) -> None:
    run_stage("mobilefacenet", title, module, argv)


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from common import msame, synthetic
    from common.backends import load_backend
    from mobilefacenet import (
        atc,
        calculate_om_acc,
        ckpt2pb,
        convert_recordio,
        image2bin,
        inference,
        train_nets,
    )
    from mobilefacenet.evaluate import embed, load_bin, verify
    from mobilefacenet.models.mobilefacenet import restore_model

    work = Path(a.workdir)
    started = time.time()
    ms1m, lfw = work / "data" / "ms1m", work / "data" / "lfw.bin"
    print(f"=== synthetic MS1M and LFW\n$ python -m common.synthetic ms1m --out {ms1m} --identities "
          f"{a.identities} --images_per_identity {a.images_per_identity} --seed {a.seed}\n"
          f"$ python -m common.synthetic lfw_bin --out {lfw} --pairs_per_fold {a.lfw_pairs_per_fold} "
          f"--seed {a.seed}", flush=True)
    synthetic.make_ms1m(ms1m, a.identities, a.images_per_identity, seed=a.seed)
    synthetic.make_lfw_bin(lfw, a.lfw_pairs_per_fold, seed=a.seed)
    records = work / "data" / "train.tfrecords"
    _stage("convert_recordio", convert_recordio, ["--data_dir", str(ms1m), "--output", str(records)])

    models = work / "models"
    before = folder_names(models)
    t0 = time.time()
    # Short-run settings: Keras' Adam epsilon and lr 1e-3, BN statistics that forget their
    # initial values within a few steps (at 0.995 the tiny early activations get squashed by
    # the initial variance of 1 and every embedding collapses to one point).
    _stage("train_nets", train_nets, [
        "--tfrecords", str(records), "--eval_datasets", str(lfw), "--models_dir", str(models),
        "--logs_dir", str(work / "logs"), "--variant", a.variant, "--loss", a.loss,
        "--max_epoch", str(a.max_epoch), "--steps_per_epoch", str(a.steps_per_epoch),
        "--train_batch_size", str(a.train_batch_size), "--lr_values", "0.001,0.0003",
        "--lr_boundaries", str(max(a.max_epoch - 1, 1)), "--adam_epsilon", "1e-8", "--bn_decay", "0.5",
        "--shuffle_buffer", "2000", "--seed", str(a.seed)])
    train_s = time.time() - t0
    best = newest_new_folder(models, before) / "best"

    _stage("inference", inference, ["--ckpt_path", str(best), "--eval_datasets", str(lfw),
                                    "--roc", str(work / "roc.png")])
    pb = work / "pb_model" / "MobileFaceNet.pb"
    _stage("ckpt2pb", ckpt2pb, ["--ckpt_path", str(best), "--output_path", str(pb.parent)])
    _stage("image2bin", image2bin, ["--eval_dataset", str(lfw), "--output_dir", str(work / "bin_input")])
    om = work / "tf_MobileFaceNet"
    _stage("atc", atc, [f"--model={pb}", f"--output={om}"])
    portable = om.with_suffix(".onnx") if om.with_suffix(".onnx").is_file() else pb
    print(f"\n=== om_eval\n$ mobilefacenet om_eval --model {portable} --input {work / 'bin_input'} "
          f"--output {work / 'om_output'}", flush=True)
    backend = load_backend(portable)
    run = msame.run_portable(str(portable), [str(work / "bin_input")], str(work / "om_output"), "BIN",
                             backend=backend, echo=lambda s: None)
    print(f"{len(run.times_ms)} images, {run.average_without_first_ms:.2f} ms per image after the first",
          flush=True)
    _stage("calculate_om_acc", calculate_om_acc, ["--om_output", str(run.output_dir), "--eval_dataset", str(lfw)])

    model, _, _ = restore_model(str(best))
    images, issame = load_bin(lfw)
    ckpt_acc = verify(embed(model, images), issame).accuracy
    om_acc = calculate_om_acc.om_accuracy(run.output_dir, lfw).accuracy
    results = {
        "data": f"synthetic MS1M ({a.identities} identities x {a.images_per_identity}) and LFW "
                f"({len(issame)} pairs), seed {a.seed}",
        "pairs": int(len(issame)), "checkpoint_accuracy": ckpt_acc, "om_accuracy": om_acc,
        "ms_per_image": run.average_without_first_ms, "runtime": backend.name, "model": portable.name,
        "variant": a.variant, "loss": a.loss, "train_seconds": train_s, "total_seconds": time.time() - started,
        "command": "mobilefacenet demo " + shlex.join(argv if argv is not None else sys.argv[2:]),
    }
    write_results(work, results_table(results), results, ["roc.png"])
    return 0


def results_table(r: dict) -> str:
    """The original README's LFW rows beside this run's synthetic rows."""
    return "\n".join([
        "| MobileFaceNet | data | LFW accuracy (10-fold) | ms per image (batch 1) | runtime |",
        "|---|---|---|---|---|",
        f"| paper (ArcFace, MS1M) | LFW | {ORIGINAL['paper']:.4f} | 24 (Snapdragon 820, 4 threads) | NCNN |",
        f"| original README (om, Ascend 310) | LFW | {ORIGINAL['om']:.3f} | | msame |",
        f"| this demo, checkpoint, **synthetic** | {r['pairs']} synthetic pairs | {r['checkpoint_accuracy']:.3f} | | "
        f"TensorFlow (Keras) |",
        f"| this demo, om_eval, **synthetic** | {r['pairs']} synthetic pairs | {r['om_accuracy']:.3f} | "
        f"{r['ms_per_image']:.2f} | {r['model']}: {r['runtime']} via portable msame, float16 output |",
    ])


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
