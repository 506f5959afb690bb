"""Build CovPoolFER's temporal pooling graph in TF1 graph mode, save it as the release is laid out,
and run it on AFEW-layout clip features.

    python tests/tf1_temporal.py --features DIR --out OUT [--batch 31]

Written from the spec sheet (issue 28's facts: placeholder `input` [31,128,128] and
`phase_train`; under TemporalPool/spdpooling four BiRe layers W·ᵀX·W with orth_weight0..3
[128,64] [64,32] [32,16] [16,8], ReEig clipping eigenvalues to [1e-4, 1e4] after each, LogEig;
the 64 values flattened with a reshape to the fixed batch; TemporalPool/Bottleneck fully connected
32 with batch norm (eps 1e-3, no gamma) and no activation; Logits with biases, `Logits/BiasAdd`),
with no code of this project. The clip covariance is computed here from the same facts:
Xcᵀ·Xc/(n − 1) + 1e-3·tr·I over the frames of DIR/<Emotion>/<clip>/<clip>.npy (classes and
clips sorted). Writes OUT/20180618-004944/ (model-20180618-004944.ckpt-7200.* and .meta, and a
`checkpoint` file naming the author's absolute paths) and OUT/expected.npz (logits, labels).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1
RUN, STEP = "20180618-004944", 7200


def covariance(features: np.ndarray) -> np.ndarray:
    f = features.astype(np.float64)
    centred = f - f.mean(0)
    cov = centred.T @ centred / (len(f) - 1)
    return (cov + 1e-3 * np.trace(cov) * np.eye(f.shape[1])).astype(np.float32)


def clips(root: Path):
    classes = sorted(d for d in root.iterdir() if d.is_dir())
    for label, folder in enumerate(classes):
        for clip in sorted(d for d in folder.iterdir() if d.is_dir()):
            yield covariance(np.load(clip / f"{clip.name}.npy")), label


def eig_rebuild(x, fn):
    s, u = tf.linalg.eigh(x)  # tf.self_adjoint_eig
    return tf.matmul(tf.matmul(u, tf.linalg.diag(fn(s))), u, transpose_b=True)


def graph(batch: int, rng: np.random.Generator):
    covs = v1.placeholder(tf.float32, [batch, 128, 128], name="input")
    v1.placeholder_with_default(False, [], name="phase_train")  # inference: the moving statistics
    with v1.variable_scope("TemporalPool"):
        with v1.variable_scope("spdpooling"):
            x = covs
            for k, (d_in, d_out) in enumerate(((128, 64), (64, 32), (32, 16), (16, 8))):
                q, _ = np.linalg.qr(rng.standard_normal((d_in, d_out)))
                w = v1.get_variable(f"orth_weight{k}", initializer=q.astype(np.float32))
                wt = tf.tile(tf.transpose(w)[None], [batch, 1, 1])
                x = tf.matmul(tf.matmul(wt, x), tf.tile(w[None], [batch, 1, 1]))  # BiMap
                x = eig_rebuild(x, lambda s: tf.clip_by_value(s, 1e-4, 1e4))  # ReEig
            x = eig_rebuild(x, tf.math.log)  # LogEig
        x = tf.reshape(x, [batch, -1])
        with v1.variable_scope("Bottleneck"):
            h = tf.matmul(x, v1.get_variable("weights", initializer=(0.3 * rng.standard_normal((64, 32))).astype(np.float32)))
            with v1.variable_scope("BatchNorm"):
                beta = v1.get_variable("beta", initializer=(0.1 * rng.standard_normal(32)).astype(np.float32))
                mean = v1.get_variable("moving_mean", initializer=np.zeros(32, np.float32))
                var = v1.get_variable("moving_variance", initializer=np.ones(32, np.float32))
            pre_bn = h
            prelogits = (h - mean) / tf.sqrt(var + 1e-3) + beta
    with v1.variable_scope("Logits"):
        w = v1.get_variable("weights", initializer=(0.5 * rng.standard_normal((32, 7))).astype(np.float32))
        b = v1.get_variable("biases", initializer=(0.1 * rng.standard_normal(7)).astype(np.float32))
        logits = tf.nn.bias_add(tf.matmul(prelogits, w), b, name="BiasAdd")
    return covs, pre_bn, (mean, var), logits


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--features", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=31)
    a = p.parse_args()
    v1.disable_eager_execution()
    rng = np.random.default_rng(5)
    data = list(clips(Path(a.features)))
    covs_np, labels = np.stack([c for c, _ in data]), np.array([y for _, y in data])
    batches = -(-len(covs_np) // a.batch)
    padded = np.concatenate([covs_np, covs_np[: batches * a.batch - len(covs_np)]])  # the original pads with the first
    covs, pre_bn, (mean, var), logits = graph(a.batch, rng)
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        # Moving statistics from the clips themselves, so that the logits differ from clip to clip.
        h = np.concatenate([sess.run(pre_bn, {covs: padded[i * a.batch:(i + 1) * a.batch]}) for i in range(batches)])
        sess.run([mean.assign(h.mean(0)), var.assign(h.var(0) * 1.5)])
        out = np.concatenate([sess.run(logits, {covs: padded[i * a.batch:(i + 1) * a.batch]}) for i in range(batches)])
        folder = Path(a.out) / RUN
        folder.mkdir(parents=True, exist_ok=True)
        saver = v1.train.Saver(v1.global_variables())  # statistics are trainable variables, as slim put them
        saver.save(sess, str(folder / f"model-{RUN}.ckpt"), global_step=STEP, write_meta_graph=False)
        saver.export_meta_graph(str(folder / f"model-{RUN}.meta"))
    author = f"/home/dinesh/home2/comparision/models/{RUN}/model-{RUN}.ckpt"
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "{author}-{STEP}"\n' + "".join(
        f'all_model_checkpoint_paths: "{author}-{s}"\n' for s in (STEP - 48, STEP - 24, STEP)))
    np.savez(Path(a.out) / "expected.npz", logits=out[: len(covs_np)], labels=labels)
    print(f"saved the temporal pooling graph to {folder}; {len(covs_np)} clips run")


if __name__ == "__main__":
    main()
