"""The teacher's pseudo-labels: alignment of its readings and per-digit thresholds."""
import numpy as np
import pytest
import tensorflow as tf

from sgan_core.config import ConfigError, make_config, parse_setting
from sgan_core.model import selflabels as pseudo
from sgan_core.model.selflabels import PseudoLabeler


@pytest.fixture
def quick_means(monkeypatch):
    """Running means over about ten batches, so that they settle in a few dozen calls."""
    monkeypatch.setattr(pseudo, "MOMENTUM", 0.9)


def logits_for(probs) -> tf.Tensor:
    return tf.math.log(tf.constant(probs, tf.float32))


def teacher_favouring_zero(n=100):
    """Readings: every image 0.5 digit 0, the rest spread; rows cycle the runner-up digit."""
    p = np.full((n, 10), 0.3 / 8, np.float32)
    p[:, 0] = 0.5
    p[np.arange(n), 1 + np.arange(n) % 9] += 0.2 - 0.3 / 8
    return p / p.sum(1, keepdims=True)


def test_with_both_options_off_the_teacher_is_read_as_it_is():
    labeler = PseudoLabeler(make_config("fast", pseudo_align=False, pseudo_adaptive=False))
    p = teacher_favouring_zero()
    probs, bars = labeler.targets(logits_for(p))
    np.testing.assert_allclose(probs.numpy(), p, rtol=1e-5)
    np.testing.assert_allclose(bars.numpy(), 0.95)
    assert labeler.variables == {}


def test_alignment_takes_a_favoured_digit_down_to_its_share(quick_means):
    labeler = PseudoLabeler(make_config("fast", pseudo_align=True))
    p = teacher_favouring_zero()
    for _ in range(150):  # the running mean settles on the teacher's mean reading
        probs, _ = labeler.targets(logits_for(p))
    np.testing.assert_allclose(labeler.mean_probs.numpy(), p.mean(0), rtol=1e-3, atol=1e-4)
    probs = probs.numpy()
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert (p.argmax(1) == 0).all()          # before: every image read as a 0
    assert (probs.argmax(1) != 0).all()      # after: the runner-up, each digit in turn
    assert len(set(probs.argmax(1))) == 9


def test_adaptive_thresholds_start_low_and_rise_with_sure_readings(quick_means):
    cfg = make_config("fast", pseudo_adaptive=True)
    labeler = PseudoLabeler(cfg)
    sure = np.full((100, 10), 0.001, np.float32)
    sure[np.arange(100), np.arange(100) % 10] = 0.991   # sure of every digit, evenly
    _, bars = labeler.targets(logits_for(sure))
    assert bars.numpy().max() < 0.05                    # nothing learned yet: every reading counts
    for _ in range(150):
        _, bars = labeler.targets(logits_for(sure))
    np.testing.assert_allclose(bars.numpy(), cfg.pseudo_threshold, rtol=1e-3)


def test_a_digit_the_teacher_is_rarely_sure_of_gets_a_lower_bar(quick_means):
    labeler = PseudoLabeler(make_config("fast", pseudo_adaptive=True))
    p = np.full((100, 10), 0.001, np.float32)
    p[np.arange(100), np.arange(100) % 10] = 0.991
    p[np.arange(100) % 10 == 3] = 0.1                   # digit 3's images: unsure
    for _ in range(150):
        _, bars = labeler.targets(logits_for(p))
    bars = bars.numpy()
    assert bars[3] < 0.01 and np.all(np.delete(bars, 3) > 0.9)
    assert len(labeler.variables) == 2                  # saved with the checkpoint


def test_running_means_move_at_the_stated_momentum():
    labeler = PseudoLabeler(make_config("fast", pseudo_align=True))
    p = np.zeros((4, 10), np.float32) + 1e-6
    p[:, 2] = 1.0
    labeler.targets(logits_for(p / p.sum(1, keepdims=True)))
    expected = pseudo.MOMENTUM * 0.1 + (1 - pseudo.MOMENTUM) * 1.0
    assert labeler.mean_probs.numpy()[2] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("text, expected", [
    ("pseudo_align=true", ("pseudo_align", True)),
    ("pseudo_threshold=0.9", ("pseudo_threshold", 0.9)),
    ("lr_d=1", ("lr_d", 1.0)),
    ("generator=dcgan", ("generator", "dcgan")),
    ("cnn_filters=[8, 16, 32]", ("cnn_filters", (8, 16, 32))),
])
def test_any_setting_can_be_given_on_the_command_line(text, expected):
    assert parse_setting(text) == expected


@pytest.mark.parametrize("text", ["nothing", "no_such_field=1", "pseudo_align=3",
                                  "steps=many", "pseudo_threshold=NaN"])
def test_a_bad_setting_is_refused_with_its_name(text):
    with pytest.raises(ConfigError):
        parse_setting(text)


def test_the_step_and_the_readers_draw_the_same_bars():
    """The training step (TensorFlow) and How it learns (NumPy) read one formula: the same
    running means give the same aligned readings and the same per-digit bars."""
    from sgan_core.reading.insight import current_bars, teacher_readings
    cfg = make_config("fast", labels=20)
    labeler = PseudoLabeler(cfg)
    rng = np.random.default_rng(3)
    labeler.mean_probs.assign(rng.dirichlet(np.ones(10)).astype(np.float32))
    labeler.sure_share.assign((rng.dirichlet(np.ones(11))[:10]).astype(np.float32))
    mean_before = labeler.mean_probs.numpy().astype(np.float64)
    share_before = labeler.sure_share.numpy().astype(np.float64)
    raw = rng.normal(0, 3, (64, 11)).astype(np.float32)
    probs_tf, bars_tf = (t.numpy() for t in labeler.targets(tf.constant(raw)))
    # the step first moves the running means by this batch; the readers use the moved means
    mean_after = labeler.mean_probs.numpy().astype(np.float64)
    bars_np = current_bars(cfg, labeler.sure_share.numpy().astype(np.float64))
    np.testing.assert_allclose(bars_tf, bars_np, rtol=1e-5, atol=1e-6)
    read, sure = teacher_readings(raw, bars_np, mean_after)
    np.testing.assert_array_equal(read, probs_tf.argmax(-1))
    np.testing.assert_array_equal(sure, probs_tf.max(-1) > bars_tf[probs_tf.argmax(-1)])
    assert not np.allclose(mean_before, mean_after) and not np.allclose(
        share_before, labeler.sure_share.numpy())
