"""The whole CovPoolFER chain on synthetic SFEW_100, ending in the original README's table.

    covpoolfer demo --workdir demo_out/covpoolfer

synthetic data -> train -> ckpt2pb -> pic2bin -> atc -> msame (TXT) -> getAcc, each printed as
the command a user would type. Everything stays under --workdir: data/SFEW_100, models/, logs/,
pb/CovPoolFER.pb, input_bin/, reference/, om/, msame_out/, confusion.png, results.md and
results.json. All numbers are measured on synthetic faces, not on SFEW.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int
from common.demo import Session, write_results

# The Ascend port's README: om on Ascend 310, argmax head, raw pixels.
ORIGINAL = {"accuracy": 0.316, "ms_reported": 31.09}


def build_parser():
    p = parser("covpoolfer demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", type=output_dir, default="demo_out/covpoolfer", help="folder for every artefact")
    p.add_argument("--train_per_class", type=int, default=100, help="synthetic training images per class")
    p.add_argument("--val_per_class", type=int, default=20, help="synthetic val images per class")
    p.add_argument("--identities", type=int, default=180, help="synthetic people (2/3 train, 1/3 val)")
    p.add_argument("--nuisance", type=float, default=0.4, help="pose/light/noise strength of the data")
    p.add_argument("--amplitude", type=float, default=1.6,
                   help="expression strength of the data (1 = the templates; 1.6 lets a 4-minute run learn)")
    p.add_argument("--max_nrof_epochs", type=positive_int, default=12)
    p.add_argument("--epoch_size", type=positive_int, default=20, help="steps per epoch")
    p.add_argument("--batch_size", type=positive_int, default=16, help="training batch")
    p.add_argument("--learning_rate_schedule_file", default=str(Path(__file__).parent / "data" / "learning_rate_demo.txt"))
    p.add_argument("--infer_batch", type=positive_int, default=128, help="batch of the frozen graph and bins")
    p.add_argument("--timing_loops", type=int, default=10, help="msame --loop for the latency row")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from covpoolfer import atc, ckpt2pb, getAcc, msame, pic2bin, train

    session = Session(a.workdir, "covpoolfer", argv)
    work, stage = session.work, session.stage

    data = stage("synthetic SFEW_100", synthetic, [
        "sfew", "--out", str(work / "data" / "SFEW_100"), "--train_per_class", str(a.train_per_class),
        "--val_per_class", str(a.val_per_class), "--identities", str(a.identities), "--nuisance", str(a.nuisance),
        "--amplitude", str(a.amplitude), "--seed", str(a.seed), "--overwrite"])["path"]
    trained = stage("train", train, [
        "--data_dir", str(data), "--models_base_dir", str(work / "models"), "--logs_base_dir", str(work / "logs"),
        # Short-run settings: Keras' Adam epsilon (the original 0.1 damps every step), BN
        # statistics that catch up within ~20 steps, a light weight decay for a 34M-weight fc_1.
        "--model_def", "covpoolnet2", "--optimizer", "ADAM", "--adam_epsilon", "1e-8",
        "--learning_rate", "-1", "--learning_rate_schedule_file", a.learning_rate_schedule_file,
        "--max_nrof_epochs", str(a.max_nrof_epochs), "--epoch_size", str(a.epoch_size),
        "--batch_size", str(a.batch_size), "--weight_decay", "1e-5", "--bn_decay", "0.9",
        "--seed", str(a.seed)])
    frozen = stage("ckpt2pb", ckpt2pb, ["--ckpt_path", str(trained["run_dir"]), "--output_path", str(work / "pb"),
                                        "--batch_size", str(a.infer_batch)])
    bins = stage("pic2bin", pic2bin, ["--input_image_dir", str(data / "val"), "--output_bin_dir",
                                      str(work / "input_bin"), "--output_reference_file", str(work / "reference"),
                                      "--batch_size", str(a.infer_batch), "--overwrite"])
    portable = stage("atc", atc, [f"--model={frozen['path']}", f"--output={work / 'om' / 'CovPoolFER'}"]).artefact
    run = stage("msame", msame, ["--model", str(portable), "--input", str(bins["bin_dir"]),
                                 "--output", str(work / "msame_out"), "--outfmt", "TXT"])
    timing = stage(f"msame latency: {a.timing_loops} executions of one batch", msame, [
        "--model", str(portable), "--input", str(bins["bin_dir"] / "0.bin"), "--output", str(work / "msame_timing"),
        "--loop", str(a.timing_loops)])
    ms_batch = timing.average_without_first_ms if a.timing_loops > 1 else timing.average_ms
    score = stage("getAcc", getAcc, ["--input_om_out", str(run.output_dir), "--input_reference_out",
                                     str(bins["reference_dir"]), "--plot", str(work / "confusion.png")])

    results = {
        "data": "synthetic SFEW_100 (common.synthetic, seed %d)" % a.seed,
        "val_images": int(len(score.truth)), "val_accuracy": score.accuracy,
        "chance": 1 / len(score.class_names), "batch": timing.batch, "ms_per_batch": ms_batch,
        "ms_per_image": ms_batch / timing.batch, "runtime": timing.runtime,
        "train_seconds_per_step": trained.get("seconds_per_step"), "train": {k: getattr(a, k) for k in ("train_per_class", "identities", "nuisance", "amplitude", "max_nrof_epochs",
                                             "epoch_size", "batch_size", "learning_rate_schedule_file", "seed")},
        "machine": f"{platform.processor() or platform.machine()}, {_cpu_count()} CPU cores",
    }
    results.update(session.facts())
    write_results(work, results_table(results), results, ["confusion.png"])
    return results


def results_table(r: dict) -> str:
    """The original README's table (Acc on val, latency) with this run's synthetic row."""
    return "\n".join([
        f"| CovPoolFER | data | Acc on val | ms per batch of {r['batch']} | ms per image | runtime |",
        "|---|---|---|---|---|---|",
        f"| original README (om, Ascend 310) | SFEW 2.0 val | {ORIGINAL['accuracy']:.3f} | | "
        f"{ORIGINAL['ms_reported']:.2f} (as reported) | msame |",
        f"| this demo, **synthetic** | {r['val_images']} synthetic val faces (chance {r['chance']:.3f}) | "
        f"{r['val_accuracy']:.3f} | {r['ms_per_batch']:.1f} | {r['ms_per_image']:.2f} | "
        f"{r['runtime']} via portable msame, {r['machine']} |",
    ])


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
