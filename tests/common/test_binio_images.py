""".bin batches, CovPoolFER reference files and robust image loading."""

import io

import numpy as np
import pytest
from PIL import Image

from common import binio
from common.cli import StageError
from common.images import ImageError, decode_rgb, load_rgb


def test_bin_round_trip_and_size(tmp_path):
    batch = np.random.default_rng(0).uniform(0, 255, (4, 10, 10, 3)).astype(np.float32)
    path = binio.write_bin(tmp_path / "0.bin", batch)
    assert path.stat().st_size == 4 * 10 * 10 * 3 * 4
    np.testing.assert_array_equal(binio.read_bin(path, (4, 10, 10, 3), np.float32), batch)


def test_bin_wrong_size_names_file_and_bytes(tmp_path):
    np.zeros(10, np.float32).tofile(tmp_path / "3.bin")
    with pytest.raises(binio.BinSizeError, match=r"3\.bin: expected 80 bytes .* found 40 bytes"):
        binio.read_bin(tmp_path / "3.bin", (2, 10), np.float32)


def test_reference_file_format(tmp_path):
    binio.write_reference(tmp_path / "0.txt", [3, 0, 6])
    assert (tmp_path / "0.txt").read_bytes() == b"3 0 6 "
    assert binio.read_reference(tmp_path / "0.txt").tolist() == [3, 0, 6]


def test_numeric_stem_order():
    assert binio.numeric_stem_order(["10.bin", "2.bin", "1.bin"]) == ["1.bin", "2.bin", "10.bin"]


def _save(img, fmt="PNG"):
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "RGB"])
def test_any_mode_becomes_rgb(tmp_path, mode):
    (tmp_path / "a.png").write_bytes(_save(Image.new(mode, (5, 4))))
    arr = load_rgb(tmp_path / "a.png", size=(4, 5))
    assert arr.shape == (4, 5, 3) and arr.dtype == np.uint8


def test_missing_truncated_corrupt_and_wrong_size(tmp_path):
    with pytest.raises(ImageError, match="nope.png: expected an image file, found nothing"):
        load_rgb(tmp_path / "nope.png")
    data = _save(Image.new("RGB", (50, 50), "red"), "JPEG")
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="t.jpg"):
        load_rgb(tmp_path / "t.jpg")
    (tmp_path / "c.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="c.png: expected a readable image"):
        load_rgb(tmp_path / "c.png")
    with pytest.raises(ImageError, match=r"expected 100x100 pixels \(HxW\), found 50x50"):
        decode_rgb(data, "x.jpg", size=(100, 100))
    assert decode_rgb(data, "x.jpg", size=(100, 100), resize=True).shape == (100, 100, 3)
    assert issubclass(ImageError, StageError)
