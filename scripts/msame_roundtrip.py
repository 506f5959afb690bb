"""msame round trip on the demo data: freeze a small (untrained) CNN, write .bin batches of
SFEW val images, run the portable msame (TXT and BIN), and check both against TensorFlow."""

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True, help="SFEW_100 folder")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)

    import tensorflow as tf

    from common import binio
    from common.images import class_folders, list_images, load_rgb
    from common.modelspec import TensorSpec
    from common.msame import run_portable
    from common.tf.freeze import freeze, write_frozen

    out = Path(a.out)
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((100, 100, 3)), tf.keras.layers.Rescaling(1 / 255),
                                 tf.keras.layers.Conv2D(8, 5, strides=4, activation="relu"),
                                 tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(7)])
    batch = 8
    graph_def, spec = freeze(lambda x: (tf.argmax(model(x), -1, output_type=tf.int32), model(x)),
                             [TensorSpec("inputImage", [batch, 100, 100, 3])], ["output", "logits"])
    pb = write_frozen(graph_def, spec, out / "roundtrip.pb")
    images = [load_rgb(f, (100, 100)) for c in class_folders(Path(a.data) / "val") for f in list_images(c)]
    n = len(images) // batch
    for k in range(n):
        binio.write_bin(out / "bins" / f"{k}.bin", np.stack(images[k * batch:(k + 1) * batch]), np.float32)
    txt = run_portable(str(pb), [str(out / "bins")], str(out / "msame"), "TXT")
    binr = run_portable(str(pb), [str(out / "bins")], str(out / "msame"), "BIN", echo=lambda s: None)
    worst = 0.0
    for k in range(n):
        x = binio.read_bin(out / "bins" / f"{k}.bin", (batch, 100, 100, 3), np.float32)
        want = model(x).numpy()
        got_txt = np.loadtxt(txt.output_dir / f"{k}_output_1.txt").reshape(batch, 7)
        got_bin = np.fromfile(binr.output_dir / f"{k}_output_1.bin", np.float32).reshape(batch, 7)
        preds = [int(v) for v in (txt.output_dir / f"{k}_output_0.txt").read_text().split()]
        assert preds == want.argmax(1).tolist()
        np.testing.assert_allclose(got_bin, want, rtol=1e-5, atol=1e-5)
        worst = max(worst, float(np.max(np.abs(got_txt - want) / (np.abs(want) + 1e-6))))
    print(f"msame round trip: {n} batches of {batch}, BIN exact to 1e-5, TXT within {worst:.1e} "
          f"relative (6 significant digits), argmax identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
