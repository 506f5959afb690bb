"""MobileFaceNet on video, after `make demo`: a gallery of people's clips, every face track of
other clips of them named through the faiss index.

    mobilefacenet demo_video --workdir demo_out/mobilefacenet_video     # part of make demo-video

It takes the model `make demo` trained (the newest run's best/ under demo_out/mobilefacenet/
models, or --ckpt_path). Steps, each printed as the command a user would type: synthetic YouTube
Faces videos -> a gallery of each person's first clip -> search with every person's second clip
(rank-1 and top-5 identification of the tracks) -> one clip written back with its track named.
Every number is synthetic.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int
from common.demo import Session, newest_demo_run, write_results


def build_parser():
    p = parser("mobilefacenet demo_video", __doc__.strip().splitlines()[0])
    p.add_argument("--workdir", type=output_dir, default="demo_out/mobilefacenet_video", help="folder for every artefact")
    p.add_argument("--ckpt_path", default=None, help="the model (default: the best of the newest `make demo` run)")
    p.add_argument("--identities", type=positive_int, default=30, help="synthetic people in the gallery")
    p.add_argument("--frames", type=positive_int, default=10, help="frames per synthetic clip")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import synthetic
    from mobilefacenet import search

    checkpoint = Path(a.ckpt_path) if a.ckpt_path else newest_demo_run("demo_out/mobilefacenet/models",
                                                                       "mobilefacenet", "best")
    session = Session(a.workdir, "mobilefacenet", argv)
    work, stage = session.work, session.stage
    ytf = stage("synthetic YouTube Faces clips", synthetic, [
        "ytf", "--out", str(work / "YTF"), "--identities", str(a.identities), "--frames", str(a.frames),
        "--seed", str(a.seed), "--overwrite"])["path"]
    gallery, probes = work / "gallery", work / "probes"
    for folder in (gallery, probes):
        shutil.rmtree(folder, ignore_errors=True)
    people = sorted(p.name for p in (ytf / "clips").iterdir() if p.is_dir())
    for person in people:  # each person's first clip in the gallery, the second one to look up
        for folder, video in ((gallery, "1.mp4"), (probes, "2.mp4")):
            (folder / person).mkdir(parents=True)
            shutil.copy(ytf / "clips" / person / video, folder / person / video)
    print(f"\ngallery: {gallery} (the first clip of {len(people)} people); probes: {probes} (their second clips)")
    marks = ["--landmarks", str(ytf / "clips" / "landmarks.txt")]
    found = stage("search the gallery with every probe clip", search, [
        "--ckpt_path", str(checkpoint), "--gallery", str(gallery), "--probe", str(probes), *marks, "--top_k", "5",
        "--json", str(work / "tracks.json")])
    tracks = [(Path(v["video"]).parent.name, t) for v in found["videos"] for t in v["tracks"]]
    rank1 = sum(t["matches"][0]["person"] == person for person, t in tracks) / len(tracks)
    top5 = sum(any(m["person"] == person for m in t["matches"]) for person, t in tracks) / len(tracks)
    named = stage("one clip written back with its track named", search, [
        "--ckpt_path", str(checkpoint), "--gallery", str(gallery), "--probe", str(probes / people[0] / "2.mp4"),
        *marks, "--video_out", str(work / "named.mp4")])
    rate = [v["frames_per_second"] for v in found["videos"] if v["frames_per_second"]]
    results = {"model": str(checkpoint), "gallery_people": found["people"], "probe_tracks": len(tracks),
               "rank1": rank1, "top5": top5, "index": found["index"],
               "frames_per_second": sum(rate) / len(rate) if rate else None,
               "named_clip": named["videos"][0]["tracks"][0]["name"],
               "settings": {"identities": a.identities, "frames": a.frames, "seed": a.seed}}
    results.update(session.facts())
    write_results(work, results_table(results), results, ["named.mp4", "tracks.json"])
    return results


def results_table(r: dict) -> str:
    return "\n".join([
        "| MobileFaceNet: people in video | gallery | probe tracks | rank-1 | top-5 |",
        "|---|---|---|---|---|",
        f"| this demo, **synthetic** | first clip of {r['gallery_people']} people ({r['index']}) | "
        f"{r['probe_tracks']} (their second clips) | {100 * r['rank1']:.1f} % | {100 * r['top5']:.1f} % |",
    ])


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
