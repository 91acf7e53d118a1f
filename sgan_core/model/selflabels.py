"""The teacher's pseudo-labels: which digit each unlabeled image is, and whether to trust it.

The weight-averaged discriminator (the teacher) reads each clean unlabeled image; the student
learns the confident readings on an augmented copy. With few labels the teacher's early
mistakes lock in whole clusters of one digit read as another, and its sure readings favour the
digits it learned first. Two options counter that:
- alignment (ReMixMatch, Berthelot et al. 2020): the teacher's probabilities are divided by
  their running mean over unlabeled images and renormalised, so that each digit is read about
  as often as the others (MNIST's digits are close to balanced);
- adaptive thresholds (FlexMatch, Zhang et al. 2021): each digit's threshold is scaled by how
  often the teacher is already sure of it, so digits still being learned get pseudo-labels
  early, and the bar rises to `pseudo_threshold` as the teacher grows sure of every digit.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from sgan_core.model import bars
from sgan_core.model.variants import N_CLASSES

MOMENTUM = 0.99  # running means over about the last hundred batches


class PseudoLabeler:
    def __init__(self, cfg):
        self.cfg = cfg
        self.mean_probs = tf.Variable(tf.fill([N_CLASSES], 1.0 / N_CLASSES), trainable=False)
        self.sure_share = tf.Variable(tf.zeros([N_CLASSES]), trainable=False)

    @property
    def variables(self) -> dict:
        """The state a resume needs, by name, when an option uses it."""
        cfg = self.cfg
        return {"mean_probs": self.mean_probs, "sure_share": self.sure_share} \
            if cfg.pseudo_align or cfg.pseudo_adaptive else {}

    def targets(self, raw_teacher):
        """(probabilities [N, 10], per-digit thresholds [10]) for the teacher's raw logits;
        updates the running means. Call inside the training step's tf.function."""
        cfg, tau = self.cfg, self.cfg.pseudo_threshold
        probs = tf.nn.softmax(tf.stop_gradient(raw_teacher[:, :N_CLASSES]))
        if cfg.pseudo_align:
            self.mean_probs.assign(MOMENTUM * self.mean_probs
                                   + (1.0 - MOMENTUM) * tf.reduce_mean(probs, 0))
            probs = bars.align_readings(probs, self.mean_probs, tnp)
        thresholds = tf.fill([N_CLASSES], tau)
        if cfg.pseudo_adaptive:
            sure = tf.cast(tf.reduce_max(probs, -1) > tau, tf.float32)
            share = tf.reduce_mean(tf.one_hot(tf.argmax(probs, -1), N_CLASSES) * sure[:, None], 0)
            self.sure_share.assign(MOMENTUM * self.sure_share + (1.0 - MOMENTUM) * share)
            thresholds = bars.adaptive_bars(tau, tf.convert_to_tensor(self.sure_share), tnp)
        return probs, thresholds
