"""The whole MobileFaceNet chain on synthetic MS1M and LFW, ending in the original README's table.

    mobilefacenet demo --workdir demo_out/mobilefacenet

synthetic MS1M (.rec/.idx) -> convert_recordio -> train_nets -> inference -> ckpt2pb ->
image2bin -> atc -> om_eval (portable msame, float16 BIN) -> calculate_om_acc, each printed as
the command a user would type. Everything stays under --workdir. All numbers are measured on
synthetic faces (LFW people never appear in the training identities), not on LFW.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int
from common.demo import Session, write_results

# The Ascend port's README (om on Ascend 310, batch 1) and the paper (MS1M, ArcFace).
ORIGINAL = {"om": 0.987, "paper": 0.9955}
# The benchmark row of sirius-ai/MobileFaceNet_TF's README ("bad training": its released model)
# and the paper's AgeDB-30 (MS1M refined, ArcFace).
BENCHMARKS = {"MobileFaceNet_TF README": {"lfw": "0.983", "cfp_ff": "0.980", "cfp_fp": "0.827", "agedb_30": "0.878"},
              "paper (ArcFace, MS1M)": {"lfw": "0.9955", "agedb_30": "0.9607"}}  # as published
SETS = ("lfw", "cfp_ff", "cfp_fp", "agedb_30")


def build_parser():
    p = parser("mobilefacenet demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", type=output_dir, default="demo_out/mobilefacenet", help="folder for every artefact")
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


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from mobilefacenet import (
        atc,
        calculate_om_acc,
        ckpt2pb,
        convert_recordio,
        image2bin,
        inference,
        om_eval,
        train_nets,
    )

    session = Session(a.workdir, "mobilefacenet", argv)
    work, stage = session.work, session.stage

    ms1m = stage("synthetic MS1M", synthetic, [
        "ms1m", "--out", str(work / "data" / "ms1m"), "--identities", str(a.identities),
        "--images_per_identity", str(a.images_per_identity), "--seed", str(a.seed), "--overwrite"])["path"]
    lfw = stage("synthetic lfw.bin", synthetic, ["lfw_bin", "--out", str(work / "data" / "lfw.bin"),
                                                 "--pairs_per_fold", str(a.lfw_pairs_per_fold),
                                                 "--seed", str(a.seed), "--overwrite"])["path"]
    # Stand-ins for the other benchmarks the repos score: the same generator with other seeds
    # (no frontal/profile or age gap); inference prints one line per set. (Training scores only
    # LFW each epoch: four sets per epoch would cost the demo most of a minute.)
    others = [stage(f"synthetic {name}.bin", synthetic, [
        "lfw_bin", "--out", str(work / "data" / f"{name}.bin"), "--pairs_per_fold", str(a.lfw_pairs_per_fold),
        "--seed", str(a.seed + k), "--overwrite"])["path"] for k, name in enumerate(SETS[1:], start=1)]
    records = stage("convert_recordio", convert_recordio, ["--data_dir", str(ms1m), "--output",
                                                           str(work / "data" / "train.tfrecords")])["path"]
    # Short-run settings: Keras' Adam epsilon and lr 1e-3 (3e-4 in the last epoch), BN statistics
    # that forget their initial values within a few steps (at 0.995 the tiny early activations get squashed by
    # the initial variance of 1 and every embedding collapses to one point).
    trained = stage("train_nets", train_nets, [
        "--tfrecords", str(records), "--eval_datasets", str(lfw), "--models_dir", str(work / "models"),
        "--logs_dir", str(work / "logs"), "--variant", a.variant, "--loss", a.loss,
        "--max_epoch", str(a.max_epoch), "--steps_per_epoch", str(a.steps_per_epoch),
        "--train_batch_size", str(a.train_batch_size), "--lr_values", "0.001,0.0003",
        "--lr_boundaries", str(max(a.max_epoch - 2, 0)), "--adam_epsilon", "1e-8", "--bn_decay", "0.5",
        "--shuffle_buffer", "2000", "--seed", str(a.seed)])
    best = Path(trained["run_dir"]) / "best"

    scored = stage("inference", inference, ["--ckpt_path", str(best), "--eval_datasets", str(lfw), *map(str, others),
                                            "--roc", str(work / "roc.png")])
    ckpt = scored[Path(lfw).stem]
    pb = stage("ckpt2pb", ckpt2pb, ["--ckpt_path", str(best), "--output_path", str(work / "pb_model")])["path"]
    bins = stage("image2bin", image2bin, ["--eval_dataset", str(lfw), "--output_dir", str(work / "bin_input"),
                                          "--overwrite"])
    portable = stage("atc", atc, [f"--model={pb}", f"--output={work / 'tf_MobileFaceNet'}"]).artefact
    run = stage("om_eval", om_eval, ["--model", str(portable), "--input", str(bins["output_dir"]),
                                     "--output", str(work / "om_output")])
    print(f"{len(run.times_ms)} images, {run.average_without_first_ms:.2f} ms per image after the first", flush=True)
    om = stage("calculate_om_acc", calculate_om_acc, ["--om_output", str(run.output_dir), "--eval_dataset", str(lfw)])
    results = {
        "data": f"synthetic MS1M ({a.identities} identities x {a.images_per_identity}) and LFW "
                f"({bins['pairs']} pairs), seed {a.seed}",
        "pairs": bins["pairs"], "checkpoint_accuracy": ckpt.accuracy, "om_accuracy": om.accuracy,
        "benchmarks": {name: (r.accuracy, r.std) for name, r in scored.items()},
        "ms_per_image": run.average_without_first_ms, "runtime": run.runtime, "model": Path(portable).name,
        "variant": a.variant, "loss": a.loss, "train_seconds_per_step": trained.get("seconds_per_step"),
    }
    results.update(session.facts())
    write_results(work, results_table(results), results, ["roc.png"])
    return results


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
        "",
        "| MobileFaceNet, several benchmarks | LFW | CFP-FF | CFP-FP | AgeDB-30 |",
        "|---|---|---|---|---|",
        *[f"| {who} | " + " | ".join(row.get(s, "") for s in SETS) + " |"
          for who, row in BENCHMARKS.items()],
        f"| this demo, checkpoint, **synthetic** stand-ins ({r['pairs']} pairs each) | "
        + " | ".join(f"{r['benchmarks'][s][0]:.3f} ± {r['benchmarks'][s][1]:.3f}" for s in SETS) + " |",
    ])


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
