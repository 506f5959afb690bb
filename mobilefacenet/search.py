"""Who is this? The gallery people closest to the face of a probe photo, or to each face track of
a probe video.

    mobilefacenet search --ckpt_path output/ckpt/<run>/best --gallery people/ --probe who.jpg --top_k 5
    mobilefacenet search --ckpt_path output/ckpt/<run>/best --gallery people/ --probe clip.mp4 \
        --video_out named.mp4 --json tracks.json

The gallery is a folder of photos and/or clips; a sub-folder is a person (a file directly in the
gallery is a person of its own name). A photo's largest face is one gallery entry; a clip's
longest face track, its embeddings averaged, is one. Entries are embedded once and cached in
`<gallery>/embeddings.h5` (--cache), keyed by the checkpoint and each file's size and modification
time, and indexed by faiss in `<gallery>/embeddings.faiss` (mobilefacenet.gallery_index; exact
search up to 50,000 entries, HNSW above), so only a new or changed file, or another checkpoint,
costs anything again. A gallery file that cannot be read or holds no face is listed, with the
reason, in `embeddings_skipped.tsv`, and the rest is searched.

A probe photo gives the top-k people by cosine similarity. A probe video (or a folder of them) is
read as face tracks (common.face_tracks), each track's embeddings averaged into one template, and
each track gets the top-k people, its time span and a name: the best person, or "unknown" below
--threshold (a cosine similarity; default: the LFW threshold `inference` stored with the run).
--video_out draws the tracks and their names on the video.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, output_file, parser, positive_int
from common.files import stored_threshold


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def identity_of(entry: str, gallery: Path) -> str:
    """The person a gallery file shows: its first folder under the gallery, or its own name."""
    rel = Path(entry).relative_to(gallery)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def gallery_files(gallery: Path) -> list[Path]:
    from common.align import photos
    from common.video import VIDEO_SUFFIXES

    clips = [p for p in gallery.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")]
    return sorted(photos(gallery) + clips)


def clip_template(model, clip: Path, detect, a) -> tuple[np.ndarray | None, object]:
    """The unit mean embedding of each face track of a clip (None: no face), and the tracks."""
    from common.face_tracks import embed_tracks
    from mobilefacenet.data import normalize
    from mobilefacenet.embedding import embed

    faces = embed_tracks(str(clip), lambda crops: {"embedding": embed(model, normalize(crops))}, "arcface", detect,
                         fps=a.fps, every=a.every, detect_every=a.detect_every, min_score=a.min_score,
                         landmarks=a.points)
    templates = []
    for t in faces.tracks:
        m = t.outputs["embedding"].mean(axis=0)
        templates.append(m / max(np.linalg.norm(m), 1e-10))
    return (np.stack(templates) if templates else None), faces


def gallery_embeddings(model, prefix: str, gallery: Path, cache: Path, detect, skipped: list, a
                       ) -> tuple[np.ndarray, list[str], int]:
    """(unit embeddings, gallery files, files embedded now) of every gallery photo with a face and
    every clip with a face track (no file: None and []); files that cannot be read or hold no face go to ``skipped`` as
    (file, reason)."""
    from common.embedding_cache import cached
    from common.video import VIDEO_SUFFIXES
    from mobilefacenet.verify import embed_photos

    files = gallery_files(gallery)
    if not files:
        raise StageError(f"{gallery}: expected gallery photos or clips, found none")
    by_key = {f"{p}\t{_stamp(p)}": p for p in files}  # a changed file gets a new key

    def compute(keys):
        photo_keys = [k for k in keys if by_key[k].suffix.lower() not in VIDEO_SUFFIXES]
        emb, used = embed_photos(model, [by_key[k] for k in photo_keys], detect, skipped=skipped)
        rows = dict(zip((str(p) for p in used), emb, strict=True))
        for k in keys:
            clip = by_key[k]
            if clip.suffix.lower() not in VIDEO_SUFFIXES:
                continue
            try:
                templates, faces = clip_template(model, clip, detect, a)
            except StageError as err:
                reason = str(err).removeprefix(f"{clip}: ")
                print(f"{clip}: skipped, {reason}")
                skipped.append((clip, reason))
                continue
            if templates is None:
                print(f"{clip}: no face in {faces.frames_read} frame(s)")
                skipped.append((clip, f"no face found in {faces.frames_read} frame(s) read"))
                continue
            longest = max(range(len(faces.tracks)), key=lambda i: len(faces.tracks[i].frames))
            rows[str(clip)] = templates[longest]
        done = [k for k in keys if str(by_key[k]) in rows]
        dim = next(iter(rows.values())).shape[0] if rows else 128
        return done, {"embeddings": np.stack([rows[str(by_key[k])] for k in done]) if done else np.zeros((0, dim))}

    keys, arrays, fresh = cached(cache, prefix, list(by_key), compute)
    return arrays.get("embeddings"), [str(by_key[k]) for k in keys], fresh


def top_people(index, paths: list[str], gallery: Path, query: np.ndarray, top_k: int) -> list[tuple[str, float, str]]:
    """The top-k people for one unit query: (person, cosine, best gallery file), best first."""
    from mobilefacenet.gallery_index import search

    scores, rows = search(index, query, max(8 * top_k, 32))
    best: dict[str, tuple[float, str]] = {}
    for score, row in zip(scores[0], rows[0], strict=True):
        if row >= 0:
            person = identity_of(paths[row], gallery)
            if person not in best:
                best[person] = (float(score), paths[row])
    return [(p, s, f) for p, (s, f) in list(best.items())[:top_k]]


def build_parser():
    from common.face_tracks import add_video_args
    from mobilefacenet.gallery_index import KINDS

    p = parser("mobilefacenet search", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "mobilefacenet")
    p.add_argument("--gallery", required=True, help="a folder of photos and/or clips (sub-folders per person)")
    p.add_argument("--probe", required=True, help="a photo, a video, or a folder of videos")
    p.add_argument("--top_k", type=positive_int, default=5)
    p.add_argument("--threshold", type=float, default=None,
                   help="cosine similarity below which a track is 'unknown' (default: from the LFW threshold "
                        "beside the checkpoint; none: always the best person)")
    p.add_argument("--index", default="auto", choices=KINDS,
                   help="faiss index: flat (exact), hnsw (graph), auto (flat up to 50,000 entries)")
    p.add_argument("--cache", type=output_file, default=None, help="embedding cache (default <gallery>/embeddings.h5)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    p.add_argument("--video_out", type=output_file, default=None, metavar="MP4",
                   help="a probe video with each track's box and name drawn (one video)")
    p.add_argument("--json", type=output_file, default=None, help="write the matches (per track for videos) here")
    add_video_args(p)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.align import Detector
    from common.face_tracks import read_clip_landmarks
    from common.tf.tf1_import import find_checkpoint
    from common.video import VIDEO_SUFFIXES, probe, sample
    from mobilefacenet.gallery_index import load_or_build
    from mobilefacenet.models.checkpoints import restore_model
    from mobilefacenet.verify import embed_photos

    gallery, probe_path = Path(a.gallery), Path(a.probe)
    if not gallery.is_dir():
        raise StageError(f"{gallery}: expected a folder of gallery photos, found {'a file' if gallery.exists() else 'nothing'}")
    sample(a.fps, a.every)  # both flags at once stop here, before the model loads
    if probe_path.is_dir():
        clips = sorted(p for p in probe_path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        if not clips:
            raise StageError(f"{probe_path}: expected a photo, a video or a folder of videos, found no video in it")
    elif probe_path.is_file():
        clips = [probe_path] if probe_path.suffix.lower() in VIDEO_SUFFIXES else []
    else:
        raise StageError(f"{probe_path}: expected a photo or a video, found nothing")
    if a.video_out and len(clips) != 1:
        raise StageError(f"--video_out: expected one probe video, found {len(clips) or 'a photo'}")
    for clip in clips:
        probe(clip)  # an unreadable probe stops here, before any work
    a.points = read_clip_landmarks(a.landmarks) if a.landmarks else None
    model, _, prefix = restore_model(a.ckpt_path, a.use_ema)
    source = str(Path(find_checkpoint(a.ckpt_path)).resolve()) + (" (EMA)" if a.use_ema else "")
    detect = Detector(a.max_side)
    cache = Path(a.cache or gallery / "embeddings.h5")
    skipped: list[tuple[Path, str]] = []
    embeddings, paths, fresh = gallery_embeddings(model, source, gallery, cache, detect, skipped, a)
    skipped_file = cache.with_name(f"{cache.stem}_skipped.tsv")
    if skipped:
        from common.files import write_text_atomic

        write_text_atomic(skipped_file, "".join(f"{photo}\t{why}\n" for photo, why in skipped))
        print(f"{len(skipped)} gallery file(s) without a usable face, listed in {skipped_file}")
    elif skipped_file.exists():
        skipped_file.unlink()  # every file now has a face: the old list is stale
    if not paths:
        raise StageError(f"{gallery}: expected gallery photos or clips with a face, found none (listed in {skipped_file})")
    index, built = load_or_build(cache.with_suffix(".faiss"), embeddings, paths, source, a.index)
    people = len({identity_of(p, gallery) for p in paths})
    print(f"gallery: {len(paths)} faces of {people} people ({fresh} embedded now, the rest from the cache; "
          f"index {'built' if built else 'loaded'}: {type(index).__name__})")
    threshold, where = a.threshold, "--threshold"
    if threshold is None:
        distance, where = stored_threshold(prefix, "squared_distance")
        threshold = None if distance is None else 1.0 - distance / 2.0  # unit vectors: |a-b|^2 = 2 - 2 cos
    result = {"gallery": len(paths), "people": people, "embedded": fresh, "index": type(index).__name__,
              "threshold": threshold, "skipped": [(str(photo), why) for photo, why in skipped]}
    if not clips:
        query, used = embed_photos(model, [a.probe], detect)
        if not used:
            raise StageError(f"{a.probe}: expected a face, found none")
        found = top_people(index, paths, gallery, query[0], a.top_k)
        for rank, (person, score, entry) in enumerate(found, start=1):
            print(f"{rank}. {person}  cosine {score:.4f}  ({entry})")
        result.update(matches=[(entry, score) for _, score, entry in found], people_found=[p for p, _, _ in found])
    else:
        result["videos"] = [search_clip(clip, model, index, paths, gallery, detect, threshold, a) for clip in clips]
        if threshold is None:
            print(f"no threshold: every track is named after its best match (pass --threshold, or run inference: "
                  f"it writes {where})")
    if a.json:
        from common.files import write_json_atomic

        write_json_atomic(a.json, result)
        print(f"matches written to {a.json}")
    return result


def search_clip(clip: Path, model, index, paths, gallery, detect, threshold, a) -> dict:
    """Every face track of one probe video with its top-k people and name; the annotated video."""
    templates, faces = clip_template(model, clip, detect, a)
    rate = f", {faces.frames_per_second:.1f} frames/s" if faces.frames_per_second else ""
    print(f"{clip}: {faces.frames_read} frames read{rate}, {len(faces.tracks)} face track(s)")
    if templates is None:
        raise StageError(f"{clip}: expected a face, found none in {faces.frames_read} frame(s) read")
    tracks, labels = [], {}
    for t, template in zip(faces.tracks, templates, strict=True):
        found = top_people(index, paths, gallery, template, a.top_k)
        name = found[0][0] if threshold is None or found[0][1] >= threshold else "unknown"
        labels[t.track] = f"#{t.track} {name} {found[0][1]:.2f}"
        start, end = t.span
        print(f"  track {t.track}: {start:.2f}-{end:.2f} s ({len(t.frames)} frames)  {name}  "
              + "  ".join(f"{rank}. {p} {s:.3f}" for rank, (p, s, _) in enumerate(found, start=1)))
        tracks.append({"track": t.track, "start": start, "end": end, "frames": len(t.frames), "name": name,
                       "matches": [{"person": p, "cosine": s, "entry": f} for p, s, f in found]})
    if a.video_out:
        from common.face_tracks import draw_tracks

        draw_tracks(str(clip), a.video_out, faces.tracks, labels, fps=a.fps, every=a.every)
        print(f"annotated video written to {a.video_out}")
    return {"video": str(clip), "frames_read": faces.frames_read, "frames_per_second": faces.frames_per_second,
            "tracks": tracks}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
