"""common.align on a real photo that a registry package ships: scikit-image's astronaut.png
(public domain), one face."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mtcnn")
skimage = pytest.importorskip("skimage")
pytestmark = [pytest.mark.tf, pytest.mark.slow]

from common import align  # noqa: E402

ASTRONAUT = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")


@pytest.fixture(scope="module")
def detected():
    detect = align.Detector()
    rgb = align.read_photo(ASTRONAUT)
    return detect, rgb, detect(rgb)


def test_one_face_whose_points_land_on_every_template(detected):
    _, rgb, faces = detected
    assert len(faces) == 1 and faces[0].score > 0.9
    for name, ((width, height), reference) in align.TEMPLATES.items():
        crop = align.align(rgb, faces[0].points, name)
        assert crop.shape == (height, width, 3)
        # Least squares over five points of a broadly smiling face: the eyes land within 3 px of
        # the template, the wider, raised mouth corners within 6 px (residuals measured: 2.1, 6.2).
        error = np.linalg.norm(align.fit(faces[0].points, name).inverse(faces[0].points) - reference, axis=1)
        assert error[:2].max() < 3.0 and error.max() < 7.0, (name, error)


def test_an_exif_rotated_copy_gives_the_same_crop(detected, tmp_path):
    detect, rgb, faces = detected
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the pixels are stored turned the other way
    Image.fromarray(rgb).rotate(90, expand=True).save(tmp_path / "turned.png", exif=exif)
    upright = align.read_photo(tmp_path / "turned.png")
    assert upright.shape == rgb.shape
    (face,) = detect(upright)
    a = align.align(rgb, faces[0].points, "arcface").astype(float)
    b = align.align(upright, face.points, "arcface").astype(float)
    assert np.abs(a - b).mean() < 4.0


def test_given_landmarks_are_reproduced(tmp_path):
    """--landmarks (PFE's file: path, x1..x5, y1..y5): a photo made by a known similarity transform
    of the template is aligned back exactly."""
    reference = align.TEMPLATES["pfe"][1]
    angle, scale, shift = np.deg2rad(12), 2.5, np.array([40.0, 30.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = reference @ rot.T + shift
    Image.fromarray(np.asarray(Image.open(ASTRONAUT).convert("RGB"))).save(tmp_path / "p.png")
    (tmp_path / "marks.txt").write_text("p.png " + " ".join(f"{v:.4f}" for v in [*points[:, 0], *points[:, 1]]) + "\n")
    result = align.main(["--input", str(tmp_path / "p.png"), "--output", str(tmp_path / "out"), "--template", "pfe",
                         "--landmarks", str(tmp_path / "marks.txt")])
    assert result["faces"] == 1
    landed = align.fit(points, "pfe").inverse(points)
    assert np.abs(landed - reference).max() < 0.5


def test_a_folder_is_mirrored_and_failures_are_listed(tmp_path):
    src = tmp_path / "raw" / "Train" / "Happy"
    src.mkdir(parents=True)
    Image.open(ASTRONAUT).convert("RGB").save(src / "astronaut.jpg", quality=95)
    (src / "notes.jpg").write_text("not an image")
    Image.new("RGB", (200, 200), (128, 128, 128)).save(src / "blank.png")
    r = subprocess.run([sys.executable, "-m", "common.align", "--input", str(tmp_path / "raw"), "--output",
                        str(tmp_path / "aligned"), "--template", "covpoolfer"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "3 photos, 1 faces aligned" in r.stdout and "2 without a face" in r.stdout
    out = tmp_path / "aligned"
    assert Image.open(out / "Train" / "Happy" / "astronaut.png").size == (100, 100)
    failures = dict(line.split("\t") for line in (out / "no_face.tsv").read_text().splitlines()[1:])
    assert failures[str(src / "blank.png")] == "no face detected"
    assert failures[str(src / "notes.jpg")].startswith("not a readable image")
    assert len((out / "landmarks.tsv").read_text().splitlines()) == 2


def test_grey_and_sixteen_bit_photos_are_read(tmp_path):
    grey16 = (np.asarray(Image.open(ASTRONAUT).convert("L"), np.uint16) * 257)
    buf = io.BytesIO()
    Image.fromarray(grey16).save(buf, format="PNG")
    (tmp_path / "g16.png").write_bytes(buf.getvalue())
    rgb = align.read_photo(tmp_path / "g16.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (512, 512, 3)
    assert abs(float(rgb.mean()) - float(np.asarray(Image.open(ASTRONAUT).convert("L")).mean())) < 1.0
