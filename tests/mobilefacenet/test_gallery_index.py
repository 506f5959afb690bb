"""mobilefacenet.gallery_index: the exact index agrees with exhaustive search, the graph index
finds nearly the same people, and the saved index is reused only for the gallery it was built from."""

import numpy as np

from mobilefacenet import gallery_index


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _people(n_people, per_person, dim=128, spread=0.35, seed=0):
    """Embeddings that cluster by person, as a face model's do: (gallery, probes, probe person)."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(n_people, dim)))
    gallery = _unit(np.repeat(centres, per_person, axis=0) + spread * rng.normal(size=(n_people * per_person, dim)) / np.sqrt(dim) * 4)
    who = rng.integers(n_people, size=200)
    probes = _unit(centres[who] + spread * rng.normal(size=(200, dim)) / np.sqrt(dim) * 4)
    return gallery, probes


def test_flat_index_is_the_exhaustive_search():
    gallery, probes = _people(300, 3)
    scores, rows = gallery_index.search(gallery_index.build(gallery, "flat"), probes, 5)
    exact = probes @ gallery.T
    assert np.array_equal(rows[:, 0], exact.argmax(axis=1))
    assert np.allclose(scores, np.take_along_axis(exact, rows, axis=1), atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_hnsw_finds_the_exhaustive_top_match_almost_always():
    gallery, probes = _people(4000, 5)
    index = gallery_index.build(gallery, "hnsw")
    _, rows = gallery_index.search(index, probes, 1)
    recall = np.mean(rows[:, 0] == (probes @ gallery.T).argmax(axis=1))
    assert recall >= 0.97
    assert gallery_index.resolve("auto", 20_000) == "flat" and gallery_index.resolve("auto", 60_000) == "hnsw"


def test_saved_index_is_reused_only_for_its_gallery(tmp_path):
    gallery, _ = _people(50, 2)
    keys = [f"person{i // 2}/{i}.jpg" for i in range(100)]
    path = tmp_path / "embeddings.faiss"
    first, built = gallery_index.load_or_build(path, gallery, keys, "ckpt-1")
    assert built and path.is_file() and first.ntotal == 100
    again, built = gallery_index.load_or_build(path, gallery, keys, "ckpt-1")
    assert not built and again.ntotal == 100
    assert gallery_index.load_or_build(path, gallery, keys, "ckpt-2")[1]  # another checkpoint
    assert gallery_index.load_or_build(path, gallery[:99], keys[:99], "ckpt-2")[1]  # a photo gone
    path.write_bytes(b"damaged")
    index, built = gallery_index.load_or_build(path, gallery[:99], keys[:99], "ckpt-2")
    assert built and index.ntotal == 99
