"""PFE on video, after `make demo`: YouTube Faces' protocol on synthetic videos, and two clips
compared by their fused face tracks.

    pfe demo_video --workdir demo_out/pfe_video     # part of make demo-video

It takes the model `make demo` trained (the newest run under demo_out/pfe/models, or
--ckpt_path). Steps, each printed as the command a user would type: synthetic YouTube Faces (a
share of frames blurred, turned away or half covered) -> eval_ytf on frame_images_DB's boxes and
on aligned_images_DB -> verify on a same-person and a different-person pair of clips, with the
per-frame sigma^2 (CSV) and the frames ordered by it (PNG). Every number is synthetic.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int
from common.demo import Session, newest_demo_run, write_results

PAPER_YTF = 0.9736  # PFE paper, YTF: PFE_fuse+match on its large model (64 layers, MS-Celeb-1M)


def build_parser():
    p = parser("pfe demo_video", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", type=output_dir, default="demo_out/pfe_video", help="folder for every artefact")
    p.add_argument("--ckpt_path", default=None, help="the model (default: the newest run of `make demo`)")
    p.add_argument("--identities", type=positive_int, default=60, help="synthetic YTF people")
    p.add_argument("--pairs_per_split", type=positive_int, default=10, help="same-person (= different) pairs a split")
    p.add_argument("--frames", type=positive_int, default=10, help="frames per synthetic video")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from pfe import eval_ytf, verify

    checkpoint = Path(a.ckpt_path) if a.ckpt_path else newest_demo_run("demo_out/pfe/models", "pfe")
    session = Session(a.workdir, "pfe", argv)
    work, stage = session.work, session.stage
    ytf = stage("synthetic YouTube Faces", synthetic, [
        "ytf", "--out", str(work / "YTF"), "--identities", str(a.identities), "--frames", str(a.frames),
        "--pairs_per_split", str(a.pairs_per_split), "--seed", str(a.seed), "--overwrite"])["path"]
    frames = stage("eval_ytf on frame_images_DB (boxes cropped)", eval_ytf, [
        "--ytf_dir", str(ytf), "--splits", str(ytf / "splits.txt"), "--ckpt_path", str(checkpoint), "--faces", "crop",
        "--cache", str(work / "ytf_crop.h5")])
    aligned = stage("eval_ytf on aligned_images_DB", eval_ytf, [
        "--ytf_dir", str(ytf), "--splits", str(ytf / "splits.txt"), "--ckpt_path", str(checkpoint), "--faces",
        "aligned", "--cache", str(work / "ytf_aligned.h5")])
    first = next(line for line in (ytf / "splits.txt").read_text().splitlines()[1:] if line.endswith(", 1"))
    a_video, b_video = (f.strip() for f in first.split(",")[2:4])
    other = next(line for line in (ytf / "splits.txt").read_text().splitlines()[1:] if line.endswith(", 0"))
    c_video = other.split(",")[3].strip()
    clip = {v: str(ytf / "clips" / f"{v.split('/')[0]}" / f"{v.split('/')[1]}.mp4") for v in (a_video, b_video, c_video)}
    marks = ["--landmarks", str(ytf / "clips" / "landmarks.txt")]
    same = stage("verify two clips of one person", verify, [
        "--ckpt_path", str(checkpoint), clip[a_video], clip[b_video], *marks, "--csv", str(work / "sigma.csv"),
        "--picture", str(work / "frames_by_sigma.png")])
    different = stage("verify clips of two people", verify, [
        "--ckpt_path", str(checkpoint), clip[a_video], clip[c_video], *marks])
    results = {
        "model": str(checkpoint), "ytf_pairs": frames["pairs"], "ytf_videos": frames["videos"],
        "ytf_frames": frames["frames"], "frame_images_DB": frames["methods"], "aligned_images_DB": aligned["methods"],
        "same_pair": [a_video, b_video], "same_MLS": same["MLS"], "same_verdict": same["same"],
        "different_pair": [a_video, c_video], "different_MLS": different["MLS"], "different_verdict": different["same"],
        "settings": {"identities": a.identities, "frames": a.frames, "pairs_per_split": a.pairs_per_split,
                     "seed": a.seed},
    }
    results.update(session.facts())
    write_results(work, results_table(results), results, ["frames_by_sigma.png", "sigma.csv"])
    return results


def results_table(r: dict) -> str:
    rows = ["| PFE on YouTube Faces | data | mean of mu, cosine | PFE fusion, cosine | PFE fusion, MLS |",
            "|---|---|---|---|---|",
            f"| paper, large model (64 layers, MS-Celeb-1M) | YTF, 5,000 pairs | | | {100 * PAPER_YTF:.2f} % |"]
    for db in ("frame_images_DB", "aligned_images_DB"):
        m = r[db]
        rows.append(f"| this demo, **synthetic**, {db} | {r['ytf_pairs']} pairs, {r['ytf_videos']} videos | "
                    + " | ".join(f"{100 * m[k]['accuracy']:.1f} ± {100 * m[k]['std']:.1f} %"
                                 for k in ("mean", "pfe_fuse", "pfe_fuse_mls")) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
