"""The teacher's bars: how sure it must be of a digit before an unlabeled image gets that
digit as its self-label. One formula for the training step (TensorFlow, selflabels.py) and for
the readers that show it (NumPy, reading/insight.py): each passes the array module it runs on
(`numpy`, or `tf.experimental.numpy` inside the step)."""


def align_readings(probs, mean_probs, xp):
    """Distribution alignment (ReMixMatch): the teacher's probabilities divided by their
    running mean per digit, renormalised, so that each digit is read about as often."""
    probs = probs / mean_probs
    return probs / xp.sum(probs, axis=-1, keepdims=True)


def adaptive_bars(tau, sure_share, xp):
    """FlexMatch's per-digit bars: each digit's bar scaled by how often the teacher is already
    sure of it. Images the teacher is sure of for no digit count as a class of their own (the
    warm-up), so every bar starts low and rises to tau as sure readings grow."""
    unsure = 1.0 - xp.sum(sure_share)
    beta = sure_share / xp.maximum(xp.max(sure_share), unsure)
    return tau * beta / (2.0 - beta)
