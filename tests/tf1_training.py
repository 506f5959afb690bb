"""Run the first steps of an original trainer in TF1 graph mode, written from its facts.

    python tests/tf1_training.py covpoolfer --out DIR --batches B.json --lr 0.01 [--model_def covpoolnet2]
    python tests/tf1_training.py pfe --out DIR --batches B.json --lr 1e-3 --lr_drop_step 2
    python tests/tf1_training.py mobilefacenet --out DIR --tfrecord F --batch_size 4 --epochs 2 --classes 3

No code of this project: the networks are tests/tf1_originals.py's (slim's training-mode batch
norm), and each trainer's loss terms, regularisation, optimizer, update ops and their sess.run
grouping follow the original code (shared/research and the original repositories):

- covpoolfer (d-acharya train.py + framework.trainspd): CE + Σ 0.05·l2_loss(weights) + 0.01·
  mean((prelogits − c_y)²) with non-trainable centres at 0; compute_gradients over
  tf.global_variables() (so Adam moves the centres; center_loss's scatter_sub is never run);
  Stiefel projection of orth_weight0's gradient; Adam(ε 0.1); the author's eigen gradient patch
  (NaN/inf of 1/(λj − λi) set to 0). The QR retraction `redun` shares the original's sess.run
  with no ordering; here it runs after the step (the order our trainer keeps, README).
- pfe (network.py + uncertainty_module.py + utils/tflib.py): MLS over ordered genuine pairs +
  5e-4·l2_loss of the head's two kernels; tf.gradients over the head's variables; TF1
  MomentumOptimizer(0.9); lr dropped 10x at --lr_drop_step. One intra-op and one inter-op
  thread: the original's ungated step then runs in the gated order (research notes, finding 6).
- mobilefacenet (sirius-ai train_nets.py + face_losses.insightface_loss): ArcFace (s 64, m 0.5)
  on the L2-normalised prelogits + Σ 5e-5·l2_loss(conv weights, not depthwise) + 2e-5·
  mean(||(|x| + 1e-5)||_1); Adam(ε 0.1) over tf.global_variables(); piecewise_constant(epoch,
  [0], [lr, lr/10]) with the epoch counter starting at −1 and incremented at each epoch's start;
  the TFRecord read in file order, batched with the last smaller batch kept, re-initialised per
  epoch. No flip (augmentation off).

Writes DIR/ckpt/ (the starting weights, saved as the release was: tf.compat.v1.train.Saver),
DIR/losses.json (each step's loss terms before its update) and DIR/final.npz (every variable by
TF1 name after the last step; with --first also DIR/first.npz after the first).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf1_originals as nets  # noqa: E402

v1 = tf.compat.v1


@tf.RegisterGradient("AuthorSelfAdjointEigV2")
def _author_eig_grad(op, grad_e, grad_v):
    """TF 1.x's SelfAdjointEigV2 gradient with the CovPoolFER author's patch (tensorflow_patch.txt)."""
    e, v = op.outputs
    grad_e = tf.zeros_like(e) if grad_e is None else grad_e
    grad_v = tf.zeros_like(v) if grad_v is None else grad_v
    f = tf.math.reciprocal(tf.expand_dims(e, -2) - tf.expand_dims(e, -1))
    f = tf.where(tf.math.is_finite(f), f, tf.zeros_like(f))
    f = tf.linalg.set_diag(f, tf.zeros_like(e))
    grad_a = tf.matmul(v, tf.matmul(tf.linalg.diag(grad_e) + f * tf.matmul(v, grad_v, adjoint_a=True), v,
                                    adjoint_b=True))
    grad_a = tf.linalg.band_part(grad_a + tf.linalg.adjoint(grad_a), -1, 0)  # the op reads the lower triangle
    return tf.linalg.set_diag(grad_a, 0.5 * tf.linalg.diag_part(grad_a))


def var(name):
    """The graph's variable of this name."""
    (found,) = [w for w in v1.global_variables() if w.op.name == name]
    return found


def l2_loss_of(names_end, exclude=()):
    """Σ l2_loss over the graph's variables whose name ends with one of ``names_end``."""
    chosen = [w for w in v1.global_variables()
              if w.op.name.endswith(names_end) and not any(x in w.op.name for x in exclude)]
    return tf.add_n([tf.nn.l2_loss(w) for w in chosen])


def read_images(entries, decode):
    """A float32 batch and int labels from [[path, label], ...], decoded by TensorFlow."""
    images = [decode(tf.io.read_file(p)) for p, _ in entries]
    return tf.cast(tf.stack(images), tf.float32), tf.constant([int(y) for _, y in entries], tf.int32)


def covpoolfer_graph(a, steps):
    images = v1.placeholder(tf.float32, [None, 100, 100, 3], name="input")
    labels = v1.placeholder(tf.int32, [None])
    lr = v1.placeholder(tf.float32, [])
    with v1.get_default_graph().gradient_override_map({"SelfAdjointEigV2": "AuthorSelfAdjointEigV2"}):
        outputs, ends = nets.covpoolfer(images, a.scope, a.model_def, 7 if a.model_def == "covpoolnet" else 128,
                                        a.one_eig)
    prelogits = ends["prelogits"]
    model_vars = v1.trainable_variables()  # train.py's Saver (BN statistics are in that collection)
    centers = v1.get_variable("centers", [7, int(prelogits.shape[-1])], initializer=v1.zeros_initializer(),
                              trainable=False)
    ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=outputs["logits"]))
    reg = 0.05 * l2_loss_of("/weights")  # slim.l2_regularizer(5e-2) on conv, fc and Logits weights
    center = tf.reduce_mean(tf.square(prelogits - tf.gather(centers, labels)))
    total = ce + reg + 0.01 * center
    opt = v1.train.AdamOptimizer(lr, beta1=0.9, beta2=0.999, epsilon=0.1)
    grads = opt.compute_gradients(total, v1.global_variables())
    for k, (g, w) in enumerate(grads):
        if "orth" in w.name:
            wtg = tf.matmul(w, g, transpose_a=True)
            grads[k] = (g - tf.matmul(w, 0.5 * (wtg + tf.transpose(wtg))), w)
    train_op = opt.apply_gradients(grads)
    redun = [w.assign(tf.linalg.qr(w)[0]) for _, w in grads if "orth" in w.name]
    batches = [read_images(b, lambda s: tf.io.decode_png(s, channels=3)) for b in steps]
    terms = {"loss": total, "cross-entropy": ce, "regularization": reg, "center": center}
    return dict(images=images, labels=labels, lr=lr, terms=terms, ops=[train_op, redun], batches=batches,
                lr_at=lambda k: a.lr, saved=model_vars, prefix=f"model-20180101-000000.ckpt-{a.start_step}")


def pfe_graph(a, steps):
    images = v1.placeholder(tf.float32, [None, 112, 96, 3], name="images")
    labels = v1.placeholder(tf.int32, [None])
    lr = v1.placeholder(tf.float32, [])
    outputs = nets.pfe(images, a.depth, True)  # raw pixels: the builder standardises them, (x − 127.5)/128
    mu, log_sigma_sq = outputs["mu"], outputs["log_sigma_sq"]
    sigma_sq = tf.exp(log_sigma_sq)
    fused = sigma_sq[:, None, :] + sigma_sq[None, :, :]
    pair = tf.reduce_sum(tf.square(mu[:, None, :] - mu[None, :, :]) / (1e-10 + fused) + tf.math.log(fused), axis=2)
    genuine = tf.logical_and(tf.equal(labels[:, None], labels[None, :]),
                             tf.logical_not(tf.cast(tf.eye(tf.shape(mu)[0]), tf.bool)))
    mls = tf.reduce_mean(tf.boolean_mask(pair, genuine))
    reg = 5e-4 * (tf.nn.l2_loss(var("UncertaintyModule/fc1/weights"))
                  + tf.nn.l2_loss(var("UncertaintyModule/fc_log_sigma_sq/weights")))
    total = mls + reg
    head = [w for w in v1.trainable_variables() if w.op.name.startswith("UncertaintyModule")]
    grads = tf.gradients(total, head)  # not gated, as network.py
    train_op = v1.train.MomentumOptimizer(lr, momentum=0.9).apply_gradients(
        [(g, w) for g, w in zip(grads, head, strict=True) if g is not None])

    batches = [read_images(b, lambda s: tf.io.decode_jpeg(s, channels=3)) for b in steps]
    terms = {"loss": total, "mls": mls, "regularization": reg}
    return dict(images=images, labels=labels, lr=lr, terms=terms, ops=[train_op], batches=batches,
                lr_at=lambda k: a.lr if k < a.lr_drop_step else a.lr / 10, saved=v1.trainable_variables(),
                prefix=f"ckpt-{a.start_step}")


def mobilefacenet_graph(a):
    images = v1.placeholder(tf.float32, [None, 112, 112, 3], name="img_inputs")
    labels = v1.placeholder(tf.int64, [None])
    epoch = v1.Variable(-1, name="epoch", trainable=False, dtype=tf.int64)
    outputs = nets.mobilefacenet(images, a.embedding_size, a.classes)  # raw pixels, standardised by the builder
    model_vars = [w for w in v1.global_variables() if w is not epoch]
    prelogits = outputs["prelogits"]
    embeddings = tf.nn.l2_normalize(prelogits, 1, 1e-10)
    weights = var("insightface_loss/embedding_weights")
    s, m = 64.0, 0.5
    x = embeddings / tf.norm(embeddings, axis=1, keepdims=True)
    cos_t = tf.matmul(x, weights / tf.norm(weights, axis=0, keepdims=True))
    sin_t = tf.sqrt(1.0 - tf.square(cos_t))
    cos_mt = s * (cos_t * math.cos(m) - sin_t * math.sin(m))
    keep = s * (cos_t - math.sin(m) * m)
    target = tf.where(tf.cast(tf.nn.relu(cos_t - math.cos(math.pi - m)), tf.bool), cos_mt, keep)
    mask = tf.one_hot(labels, a.classes)
    logits = s * cos_t * (1.0 - mask) + target * mask
    inference = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    decay = 5e-5 * l2_loss_of("/weights", exclude=("insightface_loss",))  # slim conv2d kernels, not depthwise
    norm = 2e-5 * tf.reduce_mean(tf.norm(tf.abs(prelogits) + 1e-5, ord=1, axis=1))
    total = inference + decay + norm
    lr = v1.train.piecewise_constant(epoch, boundaries=[np.int64(0)], values=[a.lr, a.lr / 10])
    opt = v1.train.AdamOptimizer(lr, beta1=0.9, beta2=0.999, epsilon=0.1)
    train_op = opt.apply_gradients(opt.compute_gradients(total, v1.global_variables()))

    def parse(record):
        ex = tf.io.parse_single_example(record, {"image_raw": tf.io.FixedLenFeature([], tf.string),
                                                 "label": tf.io.FixedLenFeature([], tf.int64)})
        img = tf.reshape(tf.io.decode_jpeg(ex["image_raw"]), (112, 112, 3))
        return tf.cast(img, tf.float32), ex["label"]  # (x − 127.5)·0.0078125 inside the builder

    data = tf.data.TFRecordDataset(a.tfrecord).map(parse).batch(a.batch_size)
    iterator = v1.data.make_initializable_iterator(data)
    terms = {"loss": total, "inference_loss": inference, "regularization": decay + norm}
    return dict(images=images, labels=labels, terms=terms, ops=[train_op], iterator=iterator,
                inc_epoch=epoch.assign_add(1), saved=model_vars, prefix="MobileFaceNet_TF.ckpt")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["covpoolfer", "pfe", "mobilefacenet"])
    p.add_argument("--out", required=True)
    p.add_argument("--batches", help="JSON: one list of [image path, label] per step")
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--scope", default="CovPool2")
    p.add_argument("--model_def", default="covpoolnet2", choices=["covpoolnet", "covpoolnet2"])
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--lr_drop_step", type=int, default=2000)
    p.add_argument("--start_step", type=int, default=1000)
    p.add_argument("--tfrecord")
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--embedding_size", type=int, default=128)
    p.add_argument("--threads", type=int, default=1, help="intra- and inter-op threads (other roundoff)")
    p.add_argument("--perturb", type=float, default=0.0,
                   help="scale the starting weights by 1 + perturb·N(0, 1) after saving them: how far roundoff-sized "
                        "differences carry the original run")
    p.add_argument("--first", action="store_true", help="also DIR/first.npz after the first step")
    p.add_argument("--one_eig", action="store_true", help="covpoolfer: ReEig and LogEig from one eigendecomposition")
    a = p.parse_args()
    out = Path(a.out)
    (out / "ckpt").mkdir(parents=True, exist_ok=True)
    v1.disable_eager_execution()
    v1.set_random_seed(7)
    nets.TRAINING = True
    steps = json.loads(Path(a.batches).read_text()) if a.batches else None
    g = {"covpoolfer": lambda: covpoolfer_graph(a, steps), "pfe": lambda: pfe_graph(a, steps),
         "mobilefacenet": lambda: mobilefacenet_graph(a)}[a.model]()

    config = v1.ConfigProto(intra_op_parallelism_threads=a.threads, inter_op_parallelism_threads=1)
    losses = []
    with v1.Session(config=config) as sess:
        sess.run(v1.global_variables_initializer())
        v1.train.Saver(g["saved"]).save(sess, str(out / "ckpt" / g["prefix"]), write_meta_graph=False)
        if a.perturb:
            rng = np.random.default_rng(1)
            for w in g["saved"]:
                value = sess.run(w)
                w.load(value * (1 + a.perturb * rng.standard_normal(value.shape)).astype(value.dtype), sess)
        if a.model == "mobilefacenet":
            for _ in range(a.epochs):  # sirius-ai: re-initialise the iterator, then increment the epoch
                sess.run(g["iterator"].initializer)
                sess.run(g["inc_epoch"])
                batch = g["iterator"].get_next()
                while True:
                    try:
                        x, y = sess.run(batch)
                    except tf.errors.OutOfRangeError:
                        break
                    terms, *_ = sess.run([g["terms"], *g["ops"]], {g["images"]: x, g["labels"]: y})
                    losses.append({k: float(v) for k, v in terms.items()})
                    if a.first and len(losses) == 1:
                        np.savez(out / "first.npz", **{w.op.name: sess.run(w) for w in v1.global_variables()})
        else:
            for k, (x_op, y_op) in enumerate(g["batches"]):
                x, y = sess.run([x_op, y_op])
                feed = {g["images"]: x, g["labels"]: y, g["lr"]: g["lr_at"](k)}
                terms, _ = sess.run([g["terms"], g["ops"][0]], feed)
                for op in g["ops"][1:]:  # the QR retraction, after the step
                    sess.run(op)
                losses.append({name: float(v) for name, v in terms.items()})
                if a.first and k == 0:
                    np.savez(out / "first.npz", **{w.op.name: sess.run(w) for w in v1.global_variables()})
        final = {w.op.name: sess.run(w) for w in v1.global_variables()}
    np.savez(out / "final.npz", **final)
    (out / "losses.json").write_text(json.dumps(losses, indent=1))
    print(f"{len(losses)} steps; {len(final)} variables")


if __name__ == "__main__":
    main()
