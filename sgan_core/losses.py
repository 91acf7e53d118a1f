"""SGAN losses, all computed from logits so that any finite logit gives a finite loss.

real/fake: -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t).
"""
from __future__ import annotations

import tensorflow as tf

from .models import N_CLASSES, split_logits


def supervised_loss(variant: str, raw, labels):
    """Cross-entropy of the true digit. For multi it is over all 11 classes (Odena 2016)."""
    logits = raw if variant == "multi" else raw[:, :N_CLASSES]
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def discriminator_real_loss(variant: str, raw_real):
    _, real_logit = split_logits(variant, raw_real)
    return tf.reduce_mean(tf.nn.softplus(-real_logit))


def discriminator_fake_loss(variant: str, raw_fake):
    _, real_logit = split_logits(variant, raw_fake)
    return tf.reduce_mean(tf.nn.softplus(real_logit))


def generator_nonsat_loss(variant: str, raw_fake):
    """-log D(G(z)): the non-saturating loss the tutorials use."""
    return discriminator_real_loss(variant, raw_fake)


def feature_matching_loss(features_real, features_fake):
    """|| mean f(x_real) - mean f(G(z)) ||^2 (Salimans et al. 2016), real features held fixed."""
    diff = tf.reduce_mean(tf.stop_gradient(features_real), 0) - tf.reduce_mean(features_fake, 0)
    return tf.reduce_mean(tf.square(diff))


def prediction_entropy(raw):
    """Mean entropy of the class prediction (low = confident), from logits."""
    logits = raw[:, :N_CLASSES]
    logp = tf.nn.log_softmax(logits)
    return -tf.reduce_mean(tf.reduce_sum(tf.exp(logp) * logp, axis=-1))


def pseudo_label_loss(raw_student, raw_teacher, threshold: float, keep: float = 1.0):
    """Cross-entropy of the student on the teacher's confident predictions (others masked out).

    keep < 1 also drops, within each digit the teacher predicts in this batch, the least
    confident (1 - keep) of those images: an unlabeled style the teacher reads as the wrong
    digit sits at the low end of that digit's confidences, so it is not learned as that digit.
    Averaged over the whole batch, so the term grows as the teacher grows confident."""
    teacher = tf.nn.softmax(tf.stop_gradient(raw_teacher[:, :N_CLASSES]))
    conf, pred = tf.reduce_max(teacher, -1), tf.argmax(teacher, -1)
    confident = conf > threshold
    if keep < 1.0:
        same = tf.cast(tf.equal(pred[:, None], pred[None, :]), tf.float32)
        above = tf.cast(conf[None, :] > conf[:, None], tf.float32)
        rank = tf.reduce_sum(same * above, -1)      # same-digit images more confident than i
        confident &= rank < keep * tf.reduce_sum(same, -1)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=pred,
                                                        logits=raw_student[:, :N_CLASSES])
    return tf.reduce_mean(tf.cast(confident, tf.float32) * ce)


def accuracy(variant: str, raw, labels):
    pred = tf.argmax(raw[:, :N_CLASSES], axis=-1, output_type=labels.dtype)
    return tf.reduce_mean(tf.cast(tf.equal(pred, labels), tf.float32))


def aligned_teacher_logits(raw_teacher, mean_probs, momentum: float = 0.999):
    """Distribution alignment (Berthelot et al. 2020, ReMixMatch) for balanced classes.

    Updates `mean_probs` (a 10-vector variable: the running mean of the teacher's probabilities)
    and returns the teacher's class logits minus log(mean_probs): softmax of the result is the
    teacher's prediction divided by how often it predicts each class, renormalised, so a teacher
    that over-predicts a digit stops handing that digit out as a pseudo-label."""
    logits = tf.stop_gradient(raw_teacher[:, :N_CLASSES])
    mean_probs.assign(momentum * mean_probs
                      + (1.0 - momentum) * tf.reduce_mean(tf.nn.softmax(logits), 0))
    return logits - tf.math.log(mean_probs + 1e-8)
