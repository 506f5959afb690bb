"""Seeded augmentation for tf.data pipelines.

Each element gets its own stateless-RNG seed from ``Dataset.random``: the same flips and
rotations whatever the map parallelism, and also when tf.distribute clones the pipeline for its
replicas (a stateful op such as ``tf.image.random_flip_left_right`` is re-seeded by the clone,
so the replicated run would see other images than the single-device one).
"""

from __future__ import annotations

import tensorflow as tf


def with_seeds(ds: tf.data.Dataset, seed: int, rerandomize: bool = False) -> tf.data.Dataset:
    """(element, seed[2]) pairs; map with ``lambda element, s: ...``. ``rerandomize``: other seeds
    each time the pipeline is iterated again (a ``repeat`` after this point)."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=rerandomize or None)
    return tf.data.Dataset.zip((ds, seeds.batch(2)))


def random_flip(ds: tf.data.Dataset, seed: int, rerandomize: bool = False) -> tf.data.Dataset:
    """(image, label) elements, each image mirrored left-right with probability 1/2."""
    def flip(pair, s):
        image, label = pair
        return tf.image.stateless_random_flip_left_right(image, s), label

    return with_seeds(ds, seed, rerandomize).map(flip, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
