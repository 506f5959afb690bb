"""The whole PFE chain on synthetic CASIA and LFW, ending in the original README's table.

    pfe demo --workdir demo_out/pfe

synthetic CASIA + LFW -> train_base (shallow sphere net) -> train (uncertainty head, MLS) ->
eval_lfw (checkpoint rows) -> ckpt2pb -> inf_input2bin -> pb2om -> om_inf (portable msame) ->
om_output_inf (om rows), each printed as the command a user would type. Everything stays under
--workdir. All numbers are measured on synthetic faces, not on LFW.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int
from common.demo import Session, write_results

# The Ascend port's README (sphere64, CASIA): base = TF checkpoint, om = Ascend 310 fp16-mixed.
ORIGINAL = {"base": (0.99233, 0.99383), "om": (0.99233, 0.99133), "ms_per_image": 18.62}


def build_parser():
    p = parser("pfe demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", type=output_dir, default="demo_out/pfe", help="folder for every artefact")
    p.add_argument("--identities", type=int, default=40, help="synthetic CASIA identities")
    p.add_argument("--images_per_identity", type=int, default=12)
    p.add_argument("--lfw_identities", type=int, default=60)
    p.add_argument("--depth", type=int, default=10, choices=[4, 10, 20, 36, 64])
    p.add_argument("--base_steps", type=positive_int, default=100)
    p.add_argument("--pfe_steps", type=positive_int, default=80)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from pfe import (
        ckpt2pb,
        eval_ijb,
        eval_lfw,
        inf_input2bin,
        om_inf,
        om_output_inf,
        pb2om,
        train,
        train_base,
    )

    session = Session(a.workdir, "pfe", argv)
    work, stage = session.work, session.stage

    casia = stage("synthetic CASIA", synthetic, [
        "casia", "--out", str(work / "data" / "casia"), "--identities", str(a.identities),
        "--images_per_identity", str(a.images_per_identity), "--seed", str(a.seed), "--overwrite"])["path"]
    lfw = stage("synthetic LFW", synthetic, ["lfw", "--out", str(work / "data" / "lfw"), "--identities",
                                             str(a.lfw_identities), "--seed", str(a.seed), "--overwrite"])["path"]
    lfw_dir, pairs_file = lfw / "lfw_mtcnncaffe_aligned", lfw / "lfw_pairs.txt"

    base = stage("train_base", train_base, [
        "--data_dir", str(casia), "--models_dir", str(work / "base_models"), "--logs_dir", str(work / "logs" / "base"),
        "--depth", str(a.depth), "--batch_size", "64", "--num_steps", str(a.base_steps),
        "--epoch_size", str(a.base_steps // 2), "--optimizer", "ADAM", "--learning_rate", "1e-3",
        "--bn_decay", "0.5", "--seed", str(a.seed)])
    pfe_run = stage("train", train, [
        "--base_model", str(base["run_dir"]), "--data_dir", str(casia), "--models_dir", str(work / "models"),
        "--logs_dir", str(work / "logs" / "pfe"), "--num_classes_per_batch", str(min(16, a.identities)),
        "--images_per_class", "4", "--num_steps", str(a.pfe_steps), "--epoch_size", str(a.pfe_steps // 2),
        "--lr_drop_step", str(a.pfe_steps * 2 // 3), "--bn_decay", "0.5", "--seed", str(a.seed)])["run_dir"]

    ckpt = stage("eval_lfw", eval_lfw, ["--ckpt_path", str(pfe_run), "--lfw_dir", str(lfw_dir),
                                        "--pairs_file", str(pairs_file), "--roc", str(work / "roc.png")])
    ijba = stage("synthetic IJB-A", synthetic, ["ijba", "--out", str(work / "data" / "ijba"), "--subjects", "20",
                                                "--images_per_subject", "4", "--seed", str(a.seed), "--overwrite"])["path"]
    ijb = stage("eval_ijb", eval_ijb, ["--protocol", "ijba", "--protocol_dir", str(ijba), "--image_dir",
                                       str(Path(ijba) / "images"), "--ckpt_path", str(pfe_run)])
    pb = stage("ckpt2pb", ckpt2pb, ["--ckpt_path", str(pfe_run), "--output_path", str(work / "pb_model")])["path"]
    bins = stage("inf_input2bin", inf_input2bin, ["--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs_file),
                                                  "--output_dir", str(work / "input_bin"),
                                                  "--image_list_out", str(work / "lfw_list.txt"), "--overwrite"])
    portable = stage("pb2om", pb2om, [f"--model={pb}", f"--output={work / 'om_pfe'}"]).artefact
    run = stage("om_inf", om_inf, ["--model", str(portable), "--input", str(bins["output_dir"]),
                                   "--output", str(work / "output_bin")])
    print(f"{len(run.times_ms)} images, {run.average_without_first_ms:.2f} ms per image after the first", flush=True)
    om = stage("om_output_inf", om_output_inf, ["--om_output", str(run.output_dir), "--image_list",
                                                str(bins["image_list"]), "--pairs_file", str(pairs_file)])
    results = {
        "data": f"synthetic CASIA ({a.identities} x {a.images_per_identity}) and LFW ({ckpt['pairs']} pairs), "
                f"seed {a.seed}", "depth": a.depth, "pairs": ckpt["pairs"],
        "checkpoint": ckpt, "om": om, "ijba": ijb, "ms_per_image": run.average_without_first_ms, "runtime": run.runtime,
        "model": Path(portable).name,
    }
    results.update(session.facts())
    write_results(work, results_table(results), results, ["roc.png"])
    return results


# IJB-A TAR@FAR rows: the PFE README (64-CNN, CASIA-WebFace) and the paper's large model.
IJBA = {"original README, 64-CNN CASIA-WebFace, baseline": (83.21, ""),
        "original README, 64-CNN CASIA-WebFace, PFE": (87.53, ""),
        "paper, PFE fuse + match (MS-Celeb-1M model)": (95.25, "97.50 %")}


def results_table(r: dict) -> str:
    """The Ascend README's table (cosine and MLS accuracy, base and om) with this run's rows."""
    o = ORIGINAL
    return "\n".join([
        "| PFE | data | Euclidean (cosine) accuracy | MLS accuracy | ms per image (batch 1) | runtime |",
        "|---|---|---|---|---|---|",
        f"| original base (sphere64 checkpoint) | LFW 6000 pairs | {o['base'][0]:.5f} | {o['base'][1]:.5f} | | TF 1.15 |",
        f"| original om (Ascend 310) | LFW 6000 pairs | {o['om'][0]:.5f} | {o['om'][1]:.5f} | {o['ms_per_image']} | msame |",
        f"| this demo, base (checkpoint), **synthetic** | {r['pairs']} synthetic pairs, sphere{r['depth']} | "
        f"{r['checkpoint']['cosine']:.5f} | {r['checkpoint']['MLS']:.5f} | | TensorFlow (Keras) |",
        f"| this demo, om_inf, **synthetic** | {r['pairs']} synthetic pairs, sphere{r['depth']} | "
        f"{r['om']['cosine']:.5f} | {r['om']['MLS']:.5f} | {r['ms_per_image']:.2f} | "
        f"{r['model']}: {r['runtime']} via portable msame |",
        "",
        "| PFE on IJB-A 1:1 (TAR, mean ± std over 10 splits) | FAR 0.1% | FAR 1% |",
        "|---|---|---|",
        *[f"| {who} | {a_:.2f} % | {b_} |" for who, (a_, b_) in IJBA.items()],
        *[f"| this demo, {title}, **synthetic** IJB-A ({r['ijba']['templates']} templates) | "
          + " | ".join(f"{100 * t:.1f} ± {100 * d:.1f} %" for t, d in zip(r["ijba"]["methods"][m]["TAR"][1:],
                                                                          r["ijba"]["methods"][m]["std"][1:],
                                                                          strict=True)) + " |"
          for m, title in (("mean", "mean of mu, cosine"), ("pfe_fuse_mls", "PFE fusion + MLS"))],
    ])


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
