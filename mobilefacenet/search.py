"""Who is this? The gallery photos whose faces are closest to a probe photo's face.

    mobilefacenet search --ckpt_path output/ckpt/<run>/best --gallery people/ --probe who.jpg --top_k 5

Every gallery photo's largest face is embedded once and cached in `<gallery>/embeddings.h5`
(--cache), keyed by the checkpoint and each photo's size and modification time, so only a new or
changed photo, or another checkpoint, is embedded again. Prints the top-k photos by cosine
similarity (a photo's folder is usually the person). A gallery photo that cannot be read or
holds no face is listed, with the reason, in `<cache>_skipped.tsv` (`embeddings_skipped.tsv`),
and the rest is searched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_checkpoint_args, output_file, parser, positive_int


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def gallery_embeddings(model, prefix: str, gallery: Path, cache: Path, detect,
                       skipped: list | None = None) -> tuple[np.ndarray, list[str], int]:
    """(unit embeddings, photo paths, photos embedded now) of every gallery photo with a face;
    the photos that cannot be read or hold no face go to ``skipped`` as (photo, reason)."""
    from common.align import photos
    from common.embedding_cache import cached
    from mobilefacenet.verify import embed_photos

    files = photos(gallery)
    if not files:
        raise StageError(f"{gallery}: expected gallery photos, found none")
    by_key = {f"{p}\t{_stamp(p)}": p for p in files}  # a changed photo gets a new key

    def compute(keys):
        emb, used = embed_photos(model, [by_key[k] for k in keys], detect, skipped=skipped)
        used = {str(p) for p in used}
        return [k for k in keys if str(by_key[k]) in used], {"embeddings": emb}

    keys, arrays, fresh = cached(cache, prefix, list(by_key), compute)
    if not keys:
        raise StageError(f"{gallery}: expected gallery photos with a face, found none")
    return arrays["embeddings"], [str(by_key[k]) for k in keys], fresh


def main(argv=None) -> dict:
    p = parser("mobilefacenet search", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "mobilefacenet")
    p.add_argument("--gallery", required=True, help="a folder of photos (sub-folders per person are fine)")
    p.add_argument("--probe", required=True, help="the photo to look up")
    p.add_argument("--top_k", type=positive_int, default=5)
    p.add_argument("--cache", type=output_file, default=None, help="embedding cache (default <gallery>/embeddings.h5)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    a = p.parse_args(argv)
    from common.align import Detector
    from common.tf.tf1_import import find_checkpoint
    from mobilefacenet.models.checkpoints import restore_model
    from mobilefacenet.verify import embed_photos

    gallery = Path(a.gallery)
    if not gallery.is_dir():
        raise StageError(f"{gallery}: expected a folder of gallery photos, found {'a file' if gallery.exists() else 'nothing'}")
    if not Path(a.probe).is_file():
        raise StageError(f"{a.probe}: expected a photo, found nothing")
    model, _, _ = restore_model(a.ckpt_path, a.use_ema)
    source = str(Path(find_checkpoint(a.ckpt_path)).resolve()) + (" (EMA)" if a.use_ema else "")
    detect = Detector(a.max_side)
    cache = Path(a.cache or gallery / "embeddings.h5")
    skipped: list[tuple[Path, str]] = []
    embeddings, paths, fresh = gallery_embeddings(model, source, gallery, cache, detect, skipped)
    skipped_file = cache.with_name(f"{cache.stem}_skipped.tsv")
    if skipped:
        from common.files import write_text_atomic

        write_text_atomic(skipped_file, "".join(f"{photo}\t{why}\n" for photo, why in skipped))
        print(f"{len(skipped)} gallery photo(s) without a usable face, listed in {skipped_file}")
    elif skipped_file.exists():
        skipped_file.unlink()  # every photo now has a face: the old list is stale
    probe, used = embed_photos(model, [a.probe], detect)
    if not used:
        raise StageError(f"{a.probe}: expected a face, found none")
    similarity = embeddings @ probe[0]
    order = np.argsort(-similarity)[:a.top_k]
    print(f"gallery: {len(paths)} faces ({fresh} embedded now, the rest from the cache)")
    for rank, i in enumerate(order, start=1):
        print(f"{rank}. {paths[i]}  cosine {similarity[i]:.4f}")
    return {"matches": [(paths[i], float(similarity[i])) for i in order], "gallery": len(paths), "embedded": fresh,
            "skipped": [(str(photo), why) for photo, why in skipped]}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
