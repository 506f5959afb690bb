"""The whole PFE chain on synthetic CASIA and LFW, ending in the original README's table.

    pfe demo --workdir demo_out/pfe

synthetic CASIA + LFW -> train_base (shallow sphere net) -> train (uncertainty head, MLS) ->
eval_lfw (checkpoint rows) -> ckpt2pb -> inf_input2bin -> pb2om -> om_inf (portable msame) ->
om_output_inf (om rows), each printed as the command a user would type. Everything stays under
--workdir. All numbers are measured on synthetic faces, not on LFW.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from common.cli import parser, positive_int
from common.demo import folder_names, newest_new_folder, run_stage, write_results

# The Ascend port's README (sphere64, CASIA): base = TF checkpoint, om = Ascend 310 fp16-mixed.
ORIGINAL = {"base": (0.99233, 0.99383), "om": (0.99233, 0.99133), "ms_per_image": 18.62}


def build_parser():
    p = parser("pfe demo", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", default="demo_out/pfe", help="folder for every artefact")
    p.add_argument("--identities", type=int, default=40, help="synthetic CASIA identities")
    p.add_argument("--images_per_identity", type=int, default=12)
    p.add_argument("--lfw_identities", type=int, default=60)
    p.add_argument("--depth", type=int, default=10, choices=[4, 10, 20, 36, 64])
    p.add_argument("--base_steps", type=positive_int, default=100)
    p.add_argument("--pfe_steps", type=positive_int, default=80)
    p.add_argument("--seed", type=int, default=0)
    return p


def _stage(title: str, module, argv: list[str]) -> None:
    run_stage("pfe", title, module, argv)


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from common import msame, synthetic
    from common.backends import load_backend
    from pfe import ckpt2pb, eval_lfw, inf_input2bin, om_output_inf, pb2om, train, train_base
    from pfe.data import lfw_images, load_standardized
    from pfe.scoring import lfw_scores, report
    from pfe.trainer import restore_pfe

    work = Path(a.workdir)
    started = time.time()
    casia, lfw = work / "data" / "casia", work / "data" / "lfw"
    print(f"=== synthetic CASIA and LFW\n$ python -m common.synthetic casia --out {casia} --identities "
          f"{a.identities} --images_per_identity {a.images_per_identity} --seed {a.seed}\n"
          f"$ python -m common.synthetic lfw --out {lfw} --identities {a.lfw_identities} --seed {a.seed}", flush=True)
    synthetic.make_casia(casia, a.identities, a.images_per_identity, seed=a.seed)
    synthetic.make_lfw(lfw, a.lfw_identities, seed=a.seed)
    lfw_dir, pairs_file = lfw / "lfw_mtcnncaffe_aligned", lfw / "lfw_pairs.txt"

    base_models, models = work / "base_models", work / "models"
    before = folder_names(base_models)
    _stage("train_base", train_base, [
        "--data_dir", str(casia), "--models_dir", str(base_models), "--logs_dir", str(work / "logs" / "base"),
        "--depth", str(a.depth), "--batch_size", "64", "--num_steps", str(a.base_steps),
        "--epoch_size", str(a.base_steps // 2), "--optimizer", "ADAM", "--learning_rate", "1e-3",
        "--bn_decay", "0.5", "--seed", str(a.seed)])
    base_run = newest_new_folder(base_models, before)
    before = folder_names(models)
    classes_per_batch = min(16, a.identities)
    _stage("train", train, [
        "--base_model", str(base_run), "--data_dir", str(casia), "--models_dir", str(models),
        "--logs_dir", str(work / "logs" / "pfe"), "--num_classes_per_batch", str(classes_per_batch),
        "--images_per_class", "4", "--num_steps", str(a.pfe_steps), "--epoch_size", str(a.pfe_steps // 2),
        "--lr_drop_step", str(a.pfe_steps * 2 // 3), "--bn_decay", "0.5", "--seed", str(a.seed)])
    run = newest_new_folder(models, before)

    _stage("eval_lfw", eval_lfw, ["--ckpt_path", str(run), "--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs_file),
                                  "--roc", str(work / "roc.png")])
    pb = work / "pb_model" / "PFE.pb"
    _stage("ckpt2pb", ckpt2pb, ["--ckpt_path", str(run), "--output_path", str(pb.parent)])
    listing = work / "lfw_list.txt"
    _stage("inf_input2bin", inf_input2bin, ["--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs_file),
                                            "--output_dir", str(work / "input_bin"), "--image_list_out", str(listing)])
    om = work / "om_pfe"
    _stage("pb2om", pb2om, [f"--model={pb}", f"--output={om}"])
    portable = om.with_suffix(".onnx") if om.with_suffix(".onnx").is_file() else pb
    print(f"\n=== om_inf\n$ pfe om_inf --model {portable} --input {work / 'input_bin'} --output {work / 'output_bin'}",
          flush=True)
    backend = load_backend(portable)
    result = msame.run_portable(str(portable), [str(work / "input_bin")], str(work / "output_bin"), "BIN",
                                backend=backend, echo=lambda s: None)
    ms = result.average_without_first_ms
    print(f"{len(result.times_ms)} images, {ms:.2f} ms per image after the first", flush=True)
    _stage("om_output_inf", om_output_inf, ["--om_output", str(result.output_dir), "--image_list", str(listing),
                                            "--pairs_file", str(pairs_file)])

    quiet = lambda s: None  # noqa: E731
    base, head, _, _ = restore_pfe(str(run))
    paths, pairs, index = lfw_images(lfw_dir, pairs_file)
    ckpt = report(lfw_scores(*eval_lfw.extract(base, head, load_standardized(paths)), index), pairs, quiet)
    om_acc = report(lfw_scores(*om_output_inf.read_outputs(result.output_dir, len(paths)), index), pairs, quiet)
    results = {
        "data": f"synthetic CASIA ({a.identities} x {a.images_per_identity}) and LFW ({len(pairs.issame)} pairs), "
                f"seed {a.seed}", "depth": a.depth, "pairs": int(len(pairs.issame)),
        "checkpoint": ckpt, "om": om_acc, "ms_per_image": ms, "runtime": backend.name, "model": portable.name,
        "total_seconds": time.time() - started,
        "command": "pfe demo " + shlex.join(argv if argv is not None else sys.argv[2:]),
    }
    write_results(work, results_table(results), results, ["roc.png"])
    return 0


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
    ])


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
