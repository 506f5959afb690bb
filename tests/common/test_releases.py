"""Every TensorFlow model's original release, through our chain, against the original graph.

One test per model in the table (common/models.py): an original TF1 checkpoint, built in its own
process from the published facts (tests/tf1_originals.py) in the release's layout, is imported by
`<model> ckpt2pb`, frozen, and run offline by msame on network-ready input bins; every frozen
output must equal the original graph's on the same pixels. This is the TF1-import equivalence and
the freeze -> msame round trip in one, each case named after its model.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from common.binio import write_bin
from common.cli import run
from common.models import MODELS, resolve

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Release:
    """How tests/tf1_originals.py writes the release, and how its outputs are named there."""
    make: tuple[str, ...]  # tf1_originals.py flags
    checkpoint: str  # the prefix ckpt2pb must report (the newest step, not the `checkpoint` file's path)
    expected: dict[str, tuple[str, float]]  # frozen output -> (original graph's output, atol)
    freeze: tuple[str, ...] = ()


RELEASES = {
    # DLP-CNN scope, as in the released covpoolnet; logits beside the argmax `output`.
    "covpoolfer": Release(("--scope", "DLP-CNN", "--model_def", "covpoolnet", "--foreign_checkpoint_file"),
                          "model-20170815-144407.ckpt-90000", {"logits": ("logits", 1e-3)}, ("--extra_outputs",)),
    "pfe": Release(("--depth", "64", "--foreign_checkpoint_file"), "ckpt-3000",
                   {"mu": ("mu", 1e-4), "sigma_sq": ("sigma_sq", 1e-6)}),
    # the port's contract: float16 `the_outputs`
    "mobilefacenet": Release(("--embedding_size", "192", "--extras"), "MobileFaceNet_TF.ckpt",
                             {"the_outputs": ("embeddings", 2e-3)}),
}


def test_every_tensorflow_model_in_the_table_has_a_release_case():
    assert set(RELEASES) == {m.name for m in MODELS.values() if m.framework == "tensorflow"}


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_release_freezes_and_runs_offline_as_the_original_graph(name, tmp_path, make_original, capsys):
    model, release = MODELS[name], RELEASES[name]
    ckpt, expected, pixels = make_original(name, tmp_path / "orig", *release.make, "--images", "6")
    assert pixels.shape[1:] == model.input_shape

    freeze = resolve(f"{model.stages['ckpt2pb']}:main")
    freeze(["--ckpt_path", str(ckpt), "--output_path", str(tmp_path / "pb"), "--batch_size", "1", *release.freeze])
    assert str(ckpt / release.checkpoint) in capsys.readouterr().out

    mean, scale = model.pixel_norm
    for i, image in enumerate(pixels):
        write_bin(tmp_path / "bins" / f"{i:03d}.bin", ((image.astype(np.float32) - mean) * scale)[None])
    msame = resolve(f"{model.stages['msame']}:main")
    assert run(msame, ["--model", str(tmp_path / "pb" / model.frozen), "--input", str(tmp_path / "bins"),
                       "--output", str(tmp_path / "out"), "--outfmt", "BIN"]) == 0
    (stamp,) = list((tmp_path / "out").iterdir())

    from common.modelspec import read_sidecar

    spec = read_sidecar(tmp_path / "pb" / model.frozen)
    names = [t.name for t in spec.outputs]
    assert set(model.outputs) <= set(names)
    for output, (theirs, atol) in release.expected.items():
        k = names.index(output)
        ours = np.stack([np.fromfile(stamp / f"{i:03d}_output_{k}.bin", spec.outputs[k].np_dtype)
                         for i in range(len(pixels))]).astype(np.float32)
        np.testing.assert_allclose(ours.reshape(expected[theirs].shape), expected[theirs], rtol=0, atol=atol,
                                   err_msg=f"{name} {output}")
    if model.classes:  # the argmax output is the original's class
        k = names.index(model.outputs[0])
        argmax = np.stack([np.fromfile(stamp / f"{i:03d}_output_{k}.bin", np.int32) for i in range(len(pixels))])
        np.testing.assert_array_equal(argmax.ravel(), expected["logits"].argmax(1))
