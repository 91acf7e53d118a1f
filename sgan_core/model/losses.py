"""SGAN losses, all computed from logits so that any finite logit gives a finite loss.

real/fake: -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t), with t the
variant's real/fake logit (see variants.py).
"""
from __future__ import annotations

import tensorflow as tf

from sgan_core.model.variants import N_CLASSES, Variant


def supervised_loss(variant: Variant, raw, labels):
    """Cross-entropy of the true digit (for multi over all 11 classes, as Odena 2016)."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=variant.supervised_logits(raw)))


def discriminator_real_loss(variant: Variant, raw_real):
    _, real_logit = variant.split_logits(raw_real)
    return tf.reduce_mean(tf.nn.softplus(-real_logit))


def discriminator_fake_loss(variant: Variant, raw_fake):
    _, real_logit = variant.split_logits(raw_fake)
    return tf.reduce_mean(tf.nn.softplus(real_logit))


def generator_nonsat_loss(variant: Variant, raw_fake):
    """-log D(G(z)): the non-saturating loss the tutorials use."""
    return discriminator_real_loss(variant, raw_fake)


def feature_matching_loss(features_real, features_fake):
    """|| mean f(x_real) - mean f(G(z)) ||^2 (Salimans et al. 2016), real features held fixed."""
    diff = tf.reduce_mean(tf.stop_gradient(features_real), 0) - tf.reduce_mean(features_fake, 0)
    return tf.reduce_mean(tf.square(diff))


def generator_class_loss(raw_fake, digits):
    """Cross-entropy of the digit a conditional generator was asked for, as the discriminator's
    class logits read its image."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=digits, logits=raw_fake[:, :N_CLASSES]))


def mode_seeking_loss(x_fake, z, pair: int):
    """1 / (image distance / latent distance) between generated images pair rows apart (drawn
    for the same digit when the digits cycle with that period), averaged over the pairs: low
    when different inputs give different drawings (Mao et al. 2019, MSGAN)."""
    d_x = tf.reduce_mean(tf.abs(x_fake[pair:] - x_fake[:-pair]), axis=[1, 2, 3])
    d_z = tf.reduce_mean(tf.abs(z[pair:] - z[:-pair]), axis=1)
    return 1.0 / (tf.reduce_mean(d_x / d_z) + 1e-5)


def pseudo_label_loss(raw_student, teacher_probs, thresholds):
    """Cross-entropy of the student on the teacher's confident readings (others masked out):
    a reading counts when its top probability is above the threshold of the digit it names.

    Averaged over the whole batch, so the term grows as the teacher grows confident."""
    conf, pred = tf.reduce_max(teacher_probs, -1), tf.argmax(teacher_probs, -1)
    confident = conf > tf.gather(thresholds, pred)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=pred,
                                                        logits=raw_student[:, :N_CLASSES])
    return tf.reduce_mean(tf.cast(confident, tf.float32) * ce)


def accuracy(raw, labels):
    """Share of rows whose highest class logit is the label."""
    pred = tf.argmax(raw[:, :N_CLASSES], axis=-1, output_type=labels.dtype)
    return tf.reduce_mean(tf.cast(tf.equal(pred, labels), tf.float32))
