"""Are these two the same person? PFE's cosine and MLS scores and each face's uncertainty.

    pfe verify --ckpt_path models/<run> a.jpg b.jpg
    pfe verify --ckpt_path models/<run> photos_of_a/ photos_of_b/
    pfe verify --ckpt_path models/<run> clip_a.mp4 clip_b.mp4 --csv sigma.csv --picture frames.png

Each photo's largest face is found by MTCNN and aligned to the 96x112 PFE template
(common.align). A folder is one template: its faces are fused with PFE's rule (pfe.fusion: mu
weighted by 1/sigma^2, the smallest sigma^2). A video is read as face tracks (common.face_tracks:
detection every --detect_every frames, or a --landmarks file) and each track is one template, so a
blurred, turned or covered frame counts for little in its track's fused face. Prints the cosine
score of the fused mu (-||mu1 - mu2||^2) and of the plain mean of mu, the mutual likelihood score,
and same/different at the MLS threshold: --threshold, or the one `eval_lfw` stored with the run
(`lfw_thresholds.json`). With several tracks in a clip there is one line per pair of templates
(--track picks one). --csv writes every face's mean sigma^2 and its share of the fusion; --picture
draws each template's faces in order of sigma^2, most trusted first.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, output_file, parser, positive_int
from common.files import THRESHOLDS_FILE, stored_threshold


@dataclass
class Template:
    """The faces of one side that are fused into one: a photo, a folder or one track of a clip."""
    input: str
    name: str  # how lines name it: the input, plus the track for a clip
    items: list[str]  # per face: the photo, or the clip's frame number
    times: list[float | None]
    mu: np.ndarray  # [n, D]
    sigma_sq: np.ndarray  # [n, D]
    crops: np.ndarray | None = None  # [n, 112, 96, 3] when a picture is drawn
    track: int | None = None

    def fused(self) -> tuple[np.ndarray, np.ndarray]:
        from pfe.fusion import aggregate_pfe

        return aggregate_pfe(self.mu, self.sigma_sq)

    def mean_mu(self) -> np.ndarray:
        m = self.mu.mean(axis=0)
        return m / (np.linalg.norm(m) + 1e-12)

    def weights(self) -> np.ndarray:
        """Each face's share of the fused mu: its 1/sigma^2 over the template's, averaged over dimensions."""
        attention = 1.0 / np.asarray(self.sigma_sq, np.float64)
        return (attention / attention.sum(axis=0, keepdims=True)).mean(axis=1)


def build_parser():
    from common.face_tracks import add_video_args

    p = parser("pfe verify", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "pfe")
    p.add_argument("a", help="a photo, a folder of photos of one person, or a video")
    p.add_argument("b", help="a photo, a folder of photos of one person, or a video")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"MLS score at or above which the faces are the same person (default: {THRESHOLDS_FILE} "
                        "written by eval_lfw beside the checkpoint)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    p.add_argument("--track", type=int, nargs="+", default=None, metavar="N",
                   help="videos: compare only track N (one number: in each video; two: a's and b's)")
    p.add_argument("--csv", type=output_file, default=None,
                   help="one row per face: its template, frame or photo, mean sigma^2 and share of the fusion")
    p.add_argument("--picture", type=output_file, default=None, metavar="PNG",
                   help="each template's faces ordered by sigma^2, most trusted first")
    add_video_args(p)
    return p


def photo_template(side: str, detect, model) -> Template:
    """One template of the largest face of each photo (one photo, or a folder of them)."""
    from common.align import largest_faces, photos

    crops, used = largest_faces(photos(Path(side)) if Path(side).exists() else [], detect, "pfe")
    if not crops:
        raise StageError(f"{side}: expected a photo with a face, found {'none' if Path(side).exists() else 'nothing'}")
    out = model(np.stack(crops))
    return Template(side, side, [str(p) for p in used], [None] * len(used), out["mu"], out["sigma_sq"],
                    out.get("crop"))


def clip_templates(side: str, detect, model, a) -> list[Template]:
    """One template per face track of a video."""
    from common.face_tracks import embed_tracks

    clip = embed_tracks(side, model, "pfe", detect, fps=a.fps, every=a.every, detect_every=a.detect_every,
                        min_score=a.min_score, landmarks=a.points)
    rate = f", {clip.frames_per_second:.1f} frames/s" if clip.frames_per_second else ""
    print(f"{side}: {clip.frames_read} frames read{rate}, {len(clip.tracks)} face track(s)")
    if not clip.tracks:
        raise StageError(f"{side}: expected a face, found none in {clip.frames_read} frame(s) read")
    return [Template(side, f"{side} track {t.track}", [str(f) for f in t.frames], list(t.times), t.outputs["mu"],
                     t.outputs["sigma_sq"], t.outputs.get("crop"), t.track) for t in clip.tracks]


def pick_tracks(templates: list[Template], wanted: int | None, side: str) -> list[Template]:
    if wanted is None or templates[0].track is None:
        return templates
    chosen = [t for t in templates if t.track == wanted]
    if not chosen:
        raise StageError(f"--track {wanted}: expected one of the tracks of {side} "
                         f"({', '.join(str(t.track) for t in templates)}), found none with that number")
    return chosen


def write_rows(path: str, sides: dict[str, list[Template]]) -> None:
    from common.files import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        rows = csv.writer(fh)
        rows.writerow(["side", "input", "track", "frame_or_photo", "time", "mean_sigma_sq", "fusion_weight"])
        for side, templates in sides.items():
            for t in templates:
                for item, when, s, w in zip(t.items, t.times, t.sigma_sq.mean(axis=1), t.weights(), strict=True):
                    rows.writerow([side, t.input, "" if t.track is None else t.track, item,
                                   "" if when is None else f"{when:.3f}", f"{s:.6g}", f"{w:.5f}"])


def draw_templates(path: str, sides: dict[str, list[Template]]) -> None:
    from common.plots import plot_face_rows

    rows = []
    for side, templates in sides.items():
        for t in templates:
            order = np.argsort(t.sigma_sq.mean(axis=1))
            captions = [f"{'f' + t.items[i] if t.track is not None else Path(t.items[i]).name[:12]}\n"
                        f"s2 {t.sigma_sq[i].mean():.3g}" for i in order]
            rows.append((f"{side}: {Path(t.input).name}" + (f" #{t.track}" if t.track is not None else ""),
                         t.crops[order], captions))
    plot_face_rows(rows, path, "faces by PFE uncertainty (mean sigma^2), most trusted left")


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.align import Detector
    from common.face_tracks import read_clip_landmarks
    from common.metrics import cosine_pair_score, mls_pair_score
    from common.video import VIDEO_SUFFIXES, probe, sample
    from pfe.data import standardize
    from pfe.embedding import embed
    from pfe.models.checkpoints import restore_model

    clips = {name: Path(side).suffix.lower() in VIDEO_SUFFIXES for name, side in (("a", a.a), ("b", a.b))}
    sample(a.fps, a.every)  # both flags at once stop here, before the model loads
    if not any(clips.values()):
        for flag in ("track", "every", "fps", "landmarks"):
            if getattr(a, flag):
                raise StageError(f"--{flag}: expected a video among the inputs, found photos")
    if a.track is not None and len(a.track) > 2:
        raise StageError(f"--track: expected one or two track numbers, found {len(a.track)}")
    for name, side in (("a", a.a), ("b", a.b)):
        if clips[name]:
            probe(side)  # an unreadable clip stops here, before the model loads
    a.points = read_clip_landmarks(a.landmarks) if a.landmarks else None
    (base, head), _, prefix = restore_model(a.ckpt_path, a.use_ema)

    def model(crops):
        mu, sigma_sq = embed(base, head, standardize(crops))
        return {"mu": mu, "sigma_sq": sigma_sq, **({"crop": crops} if a.picture else {})}

    detect = Detector(a.max_side)  # MTCNN loads on the first photo or frame it is asked about
    sides: dict[str, list[Template]] = {}
    for k, (name, side) in enumerate((("a", a.a), ("b", a.b))):
        templates = clip_templates(side, detect, model, a) if clips[name] else [photo_template(side, detect, model)]
        wanted = None if a.track is None else a.track[min(k, len(a.track) - 1)]
        sides[name] = pick_tracks(templates, wanted, side)
    threshold, source = a.threshold, "--threshold"
    stored, where = stored_threshold(prefix, "MLS")
    if threshold is None and stored is not None:
        threshold, source = stored, str(where)
    for name, templates in sides.items():
        for t in templates:
            sigma = t.sigma_sq.mean(axis=1)
            if t.track is None:
                print(f"{name}: {len(t.items)} face(s), mean sigma^2 {', '.join(f'{v:.4g}' for v in sigma)}"
                      + (" (fused)" if len(t.items) > 1 else ""))
            else:
                lo, hi = int(np.argmin(sigma)), int(np.argmax(sigma))
                print(f"{name}: track {t.track}, {len(t.items)} face(s) over {t.times[0]:.2f}-{t.times[-1]:.2f} s, "
                      f"mean sigma^2 {sigma.min():.4g} (frame {t.items[lo]}) to {sigma.max():.4g} (frame {t.items[hi]})")
    pairs = []
    for ta in sides["a"]:
        for tb in sides["b"]:
            (mu_a, sig_a), (mu_b, sig_b) = ta.fused(), tb.fused()
            cosine = float(cosine_pair_score(mu_a[None], mu_b[None])[0])
            mean_cosine = float(cosine_pair_score(ta.mean_mu()[None], tb.mean_mu()[None])[0])
            mls = float(mls_pair_score(mu_a[None], sig_a[None], mu_b[None], sig_b[None])[0])
            same = None if threshold is None else mls >= threshold
            pairs.append({"a": ta.name, "b": tb.name, "a_track": ta.track, "b_track": tb.track, "cosine": cosine,
                          "mean_cosine": mean_cosine, "MLS": mls, "same": same})
            lead = f"{ta.name} vs {tb.name}: " if len(sides["a"]) * len(sides["b"]) > 1 or ta.track is not None \
                or tb.track is not None else ""
            verdict = "" if same is None else (f"  {'same person' if same else 'different people'} (MLS {mls:.2f} "
                                               f"{'>=' if same else '<'} threshold {threshold:.2f} from {source})")
            mean_text = f" (mean of mu {mean_cosine:.4f})" if len(ta.items) > 1 or len(tb.items) > 1 else ""
            print(f"{lead}cosine score {cosine:.4f}{mean_text}  MLS score {mls:.2f}{verdict}")
    if threshold is None:
        print(f"no threshold: pass --threshold or run eval_lfw first (it writes {where})")
    if a.csv:
        write_rows(a.csv, sides)
        print(f"per-face sigma^2 and fusion weights written to {a.csv}")
    if a.picture:
        draw_templates(a.picture, sides)
        print(f"faces by uncertainty drawn in {a.picture}")
    first = pairs[0]
    return {"cosine": first["cosine"], "MLS": first["MLS"], "threshold": threshold, "same": first["same"],
            "pairs": pairs,
            "mean_sigma_sq": {k: [float(v) for t in ts for v in t.sigma_sq.mean(axis=1)] for k, ts in sides.items()},
            "photos": {k: [i for t in ts if t.track is None for i in t.items] for k, ts in sides.items()}}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
