"""Build an original model's inference graph in TF1 graph mode, save it as its release did, run it.

    python tests/tf1_originals.py covpoolfer --out DIR [--scope DLP-CNN] [--model_def covpoolnet]
    python tests/tf1_originals.py pfe --out DIR [--depth 64] [--base_only]
    python tests/tf1_originals.py mobilefacenet --out DIR [--embedding_size 192]

Written from the spec sheet (variable names, shapes and the order of operations of the
originals), with no code of this project, so the import tests compare our chain against an
independent graph. BN statistics are calibrated on the images layer by layer, so that outputs
differ from image to image. Writes DIR/ckpt/ (tf.compat.v1.train.Saver, V2 format, .meta),
DIR/pixels.npy (the raw uint8 batch) and DIR/expected.npz (the graph's outputs; with --extras
also the outputs with the EMA shadows as weights, under keys ending in _ema).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1
BATCH_NORMS = []  # (calibration op, moving_variance, beta or None) in graph order
RNG = np.random.default_rng(7)
TRAINING = False  # tests/tf1_training.py: batch norm as slim trains it (batch statistics, in-place updates)
BN_DECAY = 0.995  # all three originals' batch_norm_params


def variable(name, shape, std=None, value=None):
    """Random normal weights (a seeded initializer op, so the .meta stays small) or a given value."""
    if value is None:
        return v1.get_variable(name, shape, initializer=v1.random_normal_initializer(0.0, std))
    return v1.get_variable(name, initializer=np.asarray(value, np.float32).reshape(shape))


def he(shape, gain=1.0):
    return variable("weights", shape, gain * np.sqrt(2.0 / np.prod(shape[:-1])))


def batch_norm(x, eps, center=True, scale=True, training=None):
    """slim.batch_norm at inference: (x − mean)/sqrt(var + eps)·gamma + beta; in training
    (``training``, by default TRAINING) as slim trains it, see ``train_batch_norm``."""
    channels = int(x.shape[-1])
    with v1.variable_scope("BatchNorm"):
        beta = variable("beta", [channels], 0.1) if center else None
        gamma = variable("gamma", [channels], value=1.0 + 0.1 * RNG.standard_normal(channels)) if scale else None
        mean = variable("moving_mean", [channels], value=np.zeros(channels))
        var = variable("moving_variance", [channels], value=np.ones(channels))
    if TRAINING if training is None else training:
        return train_batch_norm(x, eps, gamma, beta, mean, var)
    batch_mean, batch_var = tf.nn.moments(x, list(range(len(x.shape) - 1)))
    BATCH_NORMS.append((tf.group(mean.assign(batch_mean), var.assign(batch_var)), var, beta))
    return tf.nn.batch_normalization(x, mean, var, beta, gamma, eps)


def train_batch_norm(x, eps, gamma, beta, mean, var):
    """slim.batch_norm(is_training=True, fused, updates_collections=None): the fused kernel
    (dense [B, C] inputs as [B, 1, 1, C]) normalises with the batch's biased variance and reports
    the unbiased one, which goes into moving_variance; the moving averages are updated in place
    (assign_moving_average without zero-debias) before the output is returned."""
    channels = int(x.shape[-1])
    maps = x if len(x.shape) == 4 else tf.reshape(x, [-1, 1, 1, channels])
    y, batch_mean, batch_var = v1.nn.fused_batch_norm(
        maps, gamma if gamma is not None else tf.ones([channels]), beta if beta is not None else tf.zeros([channels]),
        epsilon=eps, is_training=True)
    updates = [mean.assign_sub((mean - batch_mean) * (1.0 - BN_DECAY)),
               var.assign_sub((var - batch_var) * (1.0 - BN_DECAY))]
    with tf.control_dependencies(updates):
        y = tf.identity(y)
    return y if len(x.shape) == 4 else tf.reshape(y, [-1, channels])


def conv(x, out, k=3, stride=1, padding="SAME", gain=1.0):
    return tf.nn.conv2d(x, he([k, k, int(x.shape[-1]), out], gain), [1, stride, stride, 1], padding)


def depthwise(x, k, stride=1, padding="SAME"):
    channels = int(x.shape[-1])
    w = variable("depthwise_weights", [k, k, channels, 1], np.sqrt(2.0 / (k * k)))
    return tf.nn.depthwise_conv2d(x, w, [1, stride, stride, 1], padding)


def calibrate(sess, feed, after=None):
    """Moving statistics from the batch, layer by layer (each one sees the calibrated layers before
    it); one session run per layer, with ops built beforehand (a new op re-sends the graph)."""
    for k, (assign_moments, _, _) in enumerate(BATCH_NORMS):
        sess.run(assign_moments, feed)
        if after:
            after(k, sess, feed)


# ----------------------------------------------------------------------------------- CovPoolFER
def covpoolfer(images, scope, model_def, embedding_size, one_eig=False):
    """``one_eig``: LogEig(ReEig(Y)) from one eigendecomposition, log(clip(λ)) (equal in exact
    arithmetic to the original's two; tests/tf1_training.py uses it to measure their roundoff)."""
    n = tf.cast(tf.size(images[0]), tf.float32)
    mean = tf.reduce_mean(images, [1, 2, 3], keepdims=True)
    std = tf.sqrt(tf.reduce_mean(tf.square(images - mean), [1, 2, 3], keepdims=True))
    x = (images - mean) / tf.maximum(std, 1.0 / tf.sqrt(n))  # facenet's prewhiten
    ends = {}
    with v1.variable_scope(scope):
        for name, width, pool in (("Conv2d_1", 64, True), ("Conv2d_2", 96, True), ("Conv2d_3", 128, False),
                                  ("Conv2d_4", 128, True), ("Conv2d_5", 256, False), ("Conv2dfo_6", 256, False)):
            with v1.variable_scope(name):
                x = tf.nn.relu(batch_norm(conv(x, width), 1e-3, scale=False))
            if pool:
                x = tf.nn.max_pool2d(x, 2, 2, "VALID")
        with v1.variable_scope("spdpooling1"):
            feats = tf.reshape(x, [-1, 144, 256])
            centred = feats - tf.reduce_mean(feats, 1, keepdims=True)
            cov = tf.matmul(centred, centred, transpose_a=True) / 143.0
            cov += 1e-4 * tf.linalg.trace(cov)[:, None, None] * tf.eye(256)
            q, _ = np.linalg.qr(RNG.standard_normal((256, 128)))
            w = variable("orth_weight0", [256, 128], value=q)
            bimap = tf.einsum("io,bij,jp->bop", w, cov, w)
            ends["bimap"] = bimap
            s, u = tf.linalg.eigh(bimap)  # ReEig
            if one_eig:
                s = tf.clip_by_value(s, 1e-4, 1e4)
            else:
                rect = tf.matmul(u * tf.clip_by_value(s, 1e-4, 1e4)[:, None, :], u, transpose_b=True)
                s, u = tf.linalg.eigh(rect)  # LogEig
            x = tf.reshape(tf.matmul(u * tf.math.log(s)[:, None, :], u, transpose_b=True), [-1, 128 * 128])
        layers = [("fc_1", 2000, True)] + ([("fc_2", 128, True)] if model_def == "covpoolnet" else [])
        for name, width, relu in layers + [("Bottleneck", embedding_size, False)]:
            with v1.variable_scope(name):
                x = batch_norm(tf.matmul(x, variable("weights", [int(x.shape[-1]), width], 1 / np.sqrt(int(x.shape[-1])))),
                               1e-3, scale=False)
                x = tf.nn.relu(x) if relu else x
    ends["prelogits"] = x
    with v1.variable_scope("Logits"):
        logits = tf.matmul(x, variable("weights", [embedding_size, 7], 0.3)) + variable("biases", [7], 0.1)
    return {"logits": logits, "embeddings": tf.nn.l2_normalize(x, 1, 1e-10)}, ends


def covpoolfer_adjust(ends):
    """After Conv2dfo_6's BN: no shift, and its features scaled so that about half of the BiMap
    eigenvalues fall under ReEig's 1e-4 floor (the clip must matter, as on real data)."""
    def after(k, sess, feed):
        if k != 5:
            return
        _, var, beta = BATCH_NORMS[k]
        beta.load(np.zeros(beta.shape.as_list(), np.float32), sess)
        eig = np.linalg.eigvalsh(sess.run(ends["bimap"], feed).astype(np.float64))
        var.load(sess.run(var) * float(np.median(eig)) / 1e-4, sess)
    return after


# ------------------------------------------------------------------------------------------ PFE
def prelu_pfe(x):
    with v1.variable_scope("p_re_lu"):
        alpha = variable("alpha", [1, 1, int(x.shape[-1])], value=RNG.uniform(0.0, 0.3, (1, 1, int(x.shape[-1]))))
    return tf.nn.relu(x) + alpha * tf.minimum(0.0, x)


def pfe(images, depth, with_head):
    blocks = {4: (0, 0, 0, 0), 10: (0, 1, 2, 0), 20: (1, 2, 4, 1), 36: (2, 4, 8, 2), 64: (3, 8, 16, 3)}[depth]
    x = (images - 127.5) / 128.0
    with v1.variable_scope("SphereNet"):
        for k, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True), 1):
            with v1.variable_scope(f"conv{k}"):
                with v1.variable_scope("Conv"):
                    x = prelu_pfe(conv(x, width, stride=2) + variable("biases", [width], 0.01))
                for i in range(n):
                    shortcut = x
                    with v1.variable_scope(f"Conv_{2 * i + 1}"):
                        y = prelu_pfe(conv(x, width))
                    with v1.variable_scope(f"Conv_{2 * i + 2}"):
                        y = prelu_pfe(conv(y, width, gain=0.2))
                    x = y + shortcut
        flat = tf.reshape(x, [-1, 7 * 6 * 512])
        with v1.variable_scope("Bottleneck"):
            m = batch_norm(tf.matmul(flat, variable("weights", [7 * 6 * 512, 512], 0.01)), 1e-3, scale=False,
                           training=False)  # the base is frozen (is_training=False) also while the head trains
    outputs = {"mu": tf.nn.l2_normalize(m, axis=1)}
    if with_head:
        with v1.variable_scope("UncertaintyModule"):
            with v1.variable_scope("fc1"):
                h = tf.nn.relu(batch_norm(tf.matmul(flat, variable("weights", [7 * 6 * 512, 512], 0.01)), 1e-3))
            with v1.variable_scope("fc_log_sigma_sq"):
                h = batch_norm(tf.matmul(h, variable("weights", [512, 512], 0.05)), 1e-3, center=False, scale=False)
            with v1.variable_scope("scale_and_shift"):
                scale, shift = variable("alpha", [], value=0.3), variable("gamma", [], value=-6.0)  # names swapped
            log_sigma_sq = tf.math.log(1e-6 + tf.exp(scale * h + shift))
        outputs["sigma_sq"] = tf.exp(log_sigma_sq)
        outputs["log_sigma_sq"] = log_sigma_sq
    return outputs


# -------------------------------------------------------------------------------- MobileFaceNet
def prelu_mfn(x):
    alphas = variable("prelu_alphas", [int(x.shape[-1])], value=RNG.uniform(0.1, 0.4, int(x.shape[-1])))
    return tf.nn.relu(x) + alphas * (x - tf.abs(x)) * 0.5


def mobilefacenet(images, embedding_size, classes=10):
    x = (images - 127.5) * 0.0078125

    def layer(x, scope, op, act=True):
        with v1.variable_scope(scope):
            x = batch_norm(op(x), 2e-5)
            return prelu_mfn(x) if act else x

    with v1.variable_scope("MobileFaceNet"):
        x = layer(x, "Conv2d_0", lambda t: conv(t, 64, 3, 2))
        x = layer(x, "SeparableConv2d", lambda t: depthwise(t, 3))
        x = layer(x, "Conv", lambda t: conv(t, 64, 1), act=False)
        width, c, s = 64, 1, 1
        for stride, out, t, repeats in ((2, 64, 2, 5), (2, 128, 4, 1), (1, 128, 2, 6), (2, 128, 4, 1), (1, 128, 2, 2)):
            for r in range(repeats):
                st = stride if r == 0 else 1
                y = layer(x, f"Conv_{c}", lambda t_, w=width * t: conv(t_, w, 1))
                y = layer(y, f"SeparableConv2d_{s}", lambda t_, st=st: depthwise(t_, 3, st))
                y = layer(y, f"Conv_{c + 1}", lambda t_, o=out: conv(t_, o, 1, gain=0.5), act=False)
                x = x + y if st == 1 and width == out else y
                width, c, s = out, c + 2, s + 1
        x = layer(x, "Conv2d_7", lambda t: conv(t, 512, 1))
        with v1.variable_scope("Logits"):
            x = layer(x, "SeparableConv2d", lambda t: depthwise(t, 7, padding="VALID"), act=False)
            x = layer(x, "Conv", lambda t: conv(t, 512, 1), act=False)
            x = layer(x, "LinearConv1x1", lambda t: conv(t, embedding_size, 1), act=False)
        prelogits = tf.reshape(x, [-1, embedding_size])
    with v1.variable_scope("insightface_loss"):
        variable("embedding_weights", [embedding_size, classes], 0.1)  # the margin head (unused at inference)
    return {"embeddings": tf.nn.l2_normalize(prelogits, 1, 1e-10), "prelogits": prelogits}


# ---------------------------------------------------------------------------------------- main
def pixels(n, h, w, seed=3):
    """Smooth random colour images with some texture, uint8 (raw 0..255)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (n, h // 8 + 2, w // 8 + 2, 3))
    big = np.repeat(np.repeat(coarse, 8, 1), 8, 2)[:, :h, :w]
    return np.clip(big + rng.normal(0, 20, (n, h, w, 3)), 0, 255).astype(np.uint8)


def training_extras(variables, sess):
    """What a user's own training run also saves: step counters, Adam slots, EMA shadows (the
    weights times 1 ± 5 %, so that --use_ema gives other outputs). Returns the op that copies the
    shadows into the weights. Ops are built first and run once: each run after a new op re-sends
    the whole graph to the session."""
    extras = [v1.get_variable("global_step", initializer=np.int64(1234)),
              v1.get_variable("beta1_power", initializer=np.float32(0.9)),
              v1.get_variable("beta2_power", initializer=np.float32(0.999))]
    fill, use = [], []
    for v in variables:
        shape = v.shape.as_list()
        for slot in ("Adam", "Adam_1"):
            extras.append(v1.get_variable(f"{v.op.name}/{slot}", shape, initializer=v1.zeros_initializer()))
        ema = v1.get_variable(f"{v.op.name}/ExponentialMovingAverage", shape, initializer=v1.zeros_initializer())
        extras.append(ema)
        fill.append(ema.assign(v * (1.0 + 0.05 * v1.random_normal(shape))))  # keeps signs
        use.append(v.assign(ema))
    sess.run(v1.variables_initializer(extras))
    sess.run(fill)
    return tf.group(use)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["covpoolfer", "pfe", "mobilefacenet"])
    p.add_argument("--out", required=True)
    p.add_argument("--images", type=int, default=4, help="random images to run (without --pixels)")
    p.add_argument("--pixels", default=None, help="a .npy of uint8 images [N,H,W,3] to run instead")
    p.add_argument("--calibration_images", type=int, default=32)
    p.add_argument("--scope", default="DLP-CNN")
    p.add_argument("--model_def", default="covpoolnet", choices=["covpoolnet", "covpoolnet2"])
    p.add_argument("--embedding_size", type=int, default=None)
    p.add_argument("--depth", type=int, default=64)
    p.add_argument("--base_only", action="store_true")
    p.add_argument("--extras", action="store_true", help="also save global_step, Adam slots and EMA shadows")
    p.add_argument("--foreign_checkpoint_file", action="store_true",
                   help="a `checkpoint` file naming the author's absolute paths, and an older step beside")
    a = p.parse_args()
    out = Path(a.out)
    (out / "ckpt").mkdir(parents=True, exist_ok=True)
    v1.disable_eager_execution()
    v1.set_random_seed(7)

    size = {"covpoolfer": (100, 100), "pfe": (112, 96), "mobilefacenet": (112, 112)}[a.model]
    batch = np.load(a.pixels) if a.pixels else pixels(a.images, *size)
    images = v1.placeholder(tf.float32, [None, *size, 3], name="input")
    after = None
    if a.model == "covpoolfer":
        outputs, ends = covpoolfer(images, a.scope, a.model_def, a.embedding_size or (7 if a.model_def == "covpoolnet" else 128))
        after = covpoolfer_adjust(ends)
    elif a.model == "pfe":
        outputs = pfe(images, a.depth, not a.base_only)
    else:
        outputs = mobilefacenet(images, a.embedding_size or 192)

    feed = {images: batch.astype(np.float32)}
    # Each distinct run (one per BN layer while calibrating) would pay Grappler's rewrite of the graph.
    config = v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    with v1.Session(config=config) as sess:
        sess.run(v1.global_variables_initializer())
        # Statistics of a few images leave channels with almost no spread, whose BN would blow
        # round-off up: calibrate on a larger set than the batch that is compared.
        calibrate(sess, {images: pixels(a.calibration_images, *size, seed=11).astype(np.float32)}, after)
        weights = v1.global_variables()
        expected = sess.run(outputs, feed)
        if a.model == "covpoolfer":
            eig = np.linalg.eigvalsh(sess.run(ends["bimap"], feed).astype(np.float64))
            expected["clipped_fraction"] = np.float32((eig < 1e-4).mean())
        saver = v1.train.Saver(weights if not a.extras else None)
        if a.extras:
            use_shadows = training_extras(weights, sess)
            saver = v1.train.Saver()
        run = "20170815-144407"
        prefix = out / "ckpt" / (f"model-{run}.ckpt" if a.model == "covpoolfer" else
                                 "ckpt" if a.model == "pfe" else "MobileFaceNet_TF.ckpt")
        step = {"covpoolfer": 90000, "pfe": 3000, "mobilefacenet": None}[a.model]
        if a.foreign_checkpoint_file and step:
            # An older, incomplete checkpoint beside: the import must take the newest step.
            v1.train.Saver(weights[-2:]).save(sess, str(prefix), global_step=step // 2, write_meta_graph=False)
        saver.save(sess, str(prefix), global_step=step, write_meta_graph=True)
        if a.extras:
            sess.run(use_shadows)
            expected.update({f"{k}_ema": val for k, val in sess.run(outputs, feed).items()})
    if a.foreign_checkpoint_file:
        name = f"{prefix.name}-{step}" if step else prefix.name
        author = f"/home/author/models/{run}/{name}"
        (out / "ckpt" / "checkpoint").write_text(f'model_checkpoint_path: "{author}"\n'
                                                 f'all_model_checkpoint_paths: "{author}"\n')
    np.save(out / "pixels.npy", batch)
    np.savez(out / "expected.npz", **expected)
    print(f"saved {len(weights)} variables to {out / 'ckpt'}")


if __name__ == "__main__":
    main()
