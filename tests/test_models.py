"""Losses from logits, model shapes per variant, and one fused step that trains both networks."""
import json

import numpy as np
import pytest
import tensorflow as tf

from sgan_core.config import PRESETS, RunConfig, make_config
from sgan_core.model import losses
from sgan_core.model.networks import (
    build_classifier,
    build_discriminator,
    build_generator,
    copy_to_plain,
    generator_input,
)
from sgan_core.model.variants import GAN_VARIANTS, VARIANTS


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_losses_finite_for_extreme_logits(name, scale):
    variant = VARIANTS[name]
    raw = tf.Variable(scale * np.random.default_rng(0).standard_normal(
        (8, variant.raw_width)).astype(np.float32))
    labels = tf.constant(np.arange(8) % 10, tf.int32)
    with tf.GradientTape() as tape:
        total = (losses.supervised_loss(variant, raw, labels)
                 + losses.discriminator_real_loss(variant, raw)
                 + losses.discriminator_fake_loss(variant, raw)
                 + losses.generator_nonsat_loss(variant, raw)
                 + losses.generator_class_loss(raw, labels)
                 + losses.pseudo_label_loss(raw, tf.nn.softmax(-raw[:, :10]), tf.fill([10], 0.5)))
    grad = tape.gradient(total, raw)
    assert np.isfinite(total.numpy()) and np.all(np.isfinite(grad.numpy()))


def test_pseudo_label_loss_uses_only_confident_teacher_predictions():
    student = np.random.default_rng(2).standard_normal((4, 10)).astype(np.float32)
    teacher = np.zeros((4, 10), np.float32)
    teacher[0, 3] = teacher[2, 7] = 20.0           # sure of rows 0 and 2, uniform on 1 and 3
    probs = tf.nn.softmax(tf.constant(teacher))
    loss = losses.pseudo_label_loss(tf.constant(student), probs, tf.fill([10], 0.95)).numpy()
    log_p = student - np.log(np.exp(student).sum(1, keepdims=True))
    expected = -(log_p[0, 3] + log_p[2, 7]) / 4    # the mean runs over the whole batch
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    unsure = losses.pseudo_label_loss(tf.constant(student), tf.fill((4, 10), 0.1),
                                      tf.fill([10], 0.95)).numpy()
    assert unsure == 0.0
    # a threshold per digit: with digit 7's bar above its reading, only row 0 counts
    bars = tf.constant([0.95] * 7 + [1.0] + [0.95] * 2)
    only_3 = losses.pseudo_label_loss(tf.constant(student), probs, bars).numpy()
    np.testing.assert_allclose(only_3, -log_p[0, 3] / 4, rtol=1e-5)


@pytest.mark.parametrize("variant", GAN_VARIANTS)
def test_real_probability_matches_the_papers(variant):
    spec = VARIANTS[variant]
    raw = np.random.default_rng(1).standard_normal((5, spec.raw_width)).astype(np.float32)
    _, real_logit = spec.split_logits(tf.constant(raw))
    p_real = 1 / (1 + np.exp(-real_logit.numpy()))
    e = np.exp(raw.astype(np.float64))
    if variant == "stacked":    # D = Z / (Z + 1), Z = sum exp(l)
        expected = e.sum(1) / (e.sum(1) + 1)
    elif variant == "multi":    # 1 - softmax(l)[fake]
        expected = 1 - e[:, 10] / e.sum(1)
    else:                       # sigmoid of the real/fake head
        expected = 1 / (1 + np.exp(-raw[:, 10]))
    np.testing.assert_allclose(p_real, expected, rtol=1e-5)
    # the NumPy path (the Draw page's) reads the same logit
    np.testing.assert_allclose(spec.split_logits(raw)[1], real_logit.numpy(), rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("arch", ["mlp", "tutorial", "cnn"])
def test_shapes_and_plain_export(variant, arch):
    cfg = make_config("fast", variant=variant, arch=arch)
    d = build_discriminator(cfg)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    feats, raw = d(x, training=False)
    assert raw.shape == (4, VARIANTS[variant].raw_width) and feats.shape[0] == 4
    plain = copy_to_plain(d, build_discriminator(cfg, train=False))
    np.testing.assert_allclose(plain(x)[1].numpy(), raw.numpy(), rtol=1e-4, atol=1e-4)
    probs = build_classifier(plain, variant)(x).numpy()
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    # multi: the 10 digit probabilities are the 11-way softmax renormalised without "fake"
    r = raw.numpy()[:, :10].astype(np.float64)
    expected = np.exp(r - r.max(1, keepdims=True))
    np.testing.assert_allclose(probs, expected / expected.sum(1, keepdims=True), rtol=1e-4,
                               atol=1e-6)
    if VARIANTS[variant].is_gan:
        z = generator_input(cfg, np.zeros((2, cfg.latent_dim), np.float32))
        assert build_generator(cfg)(z).shape == (2, 28, 28, 1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_step_changes_both_networks(variant, small_mnist, runs_dir):
    from sgan_core.runs.rundir import create_run
    from sgan_core.training.trainer import Trainer
    cfg = make_config("fast", variant=variant, steps=5, mnist_path=small_mnist)
    trainer = Trainer(cfg, create_run(cfg, runs_dir))
    sgan = trainer.sgan
    d_before = [w.copy() for w in sgan.D.get_weights()]
    g_before = [w.copy() for w in sgan.G.get_weights()] if sgan.G else []
    metrics = {k: float(v) for k, v in sgan.train_step(*trainer.batches.next()).items()}
    assert set(metrics) == {"loss_sup", "loss_d_real", "loss_d_fake", "loss_g", "train_acc"}
    assert all(np.isfinite(v) for v in metrics.values())
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, sgan.D.get_weights()))
    if not VARIANTS[variant].is_gan:
        assert sgan.G is None
    else:
        # every trainable generator weight moves, not just some: nothing is frozen by mistake
        changed = [not np.array_equal(a, b) for a, b in zip(g_before, sgan.G.get_weights())]
        assert sum(changed) >= len(sgan.G.trainable_variables)


@pytest.mark.parametrize("preset", PRESETS)
def test_each_presets_generator_makes_images_in_the_input_range(preset):
    cfg = make_config(preset)
    g = build_generator(cfg)
    z = np.random.default_rng(0).standard_normal((3, cfg.latent_dim)).astype(np.float32)
    x = g(generator_input(cfg, z), training=False).numpy()
    assert x.shape == (3, 28, 28, 1) and x.min() >= -1.0 and x.max() <= 1.0
    conv = any(type(layer).__name__ == "Conv2DTranspose" for layer in g.layers)
    assert conv == (cfg.generator in ("dcgan", "tutorial"))


def test_cnn_width_comes_from_the_config_and_survives_config_json():
    cfg = make_config("fast", variant="shared", cnn_filters=(8, 16, 24))
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again.cnn_filters == (8, 16, 24) and again == cfg
    d = build_discriminator(again)
    assert [d.get_layer(f"d_conv{i}").filters for i in range(3)] == [8, 16, 24]
    assert d.outputs[0].shape[-1] == 4 * 4 * 24


def test_a_conditional_generator_is_fed_one_digit_per_column():
    z = np.random.default_rng(0).standard_normal((23, 100)).astype(np.float32)
    plain = make_config("fast", class_weight=0.0)
    assert generator_input(plain, z) is z
    cfg = make_config("fast", class_weight=1.0)
    fed = generator_input(cfg, z)
    assert fed.shape == (23, 110) and np.array_equal(fed[:, :100], z)
    assert np.array_equal(fed[:, 100:].argmax(1), np.arange(23) % 10)
    assert np.array_equal(fed[:, 100:].sum(1), np.ones(23))
    assert build_generator(cfg)(fed).shape == (23, 28, 28, 1)
    # the baseline has no generator to condition
    assert not make_config("fast", variant="supervised", class_weight=1.0).conditional


def test_generator_class_loss_is_the_cross_entropy_of_the_asked_digit():
    raw = np.random.default_rng(3).standard_normal((5, 11)).astype(np.float32)
    digits = np.array([0, 3, 9, 3, 1], np.int32)
    loss = losses.generator_class_loss(tf.constant(raw), tf.constant(digits)).numpy()
    logits = raw[:, :10]
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    np.testing.assert_allclose(loss, -log_p[np.arange(5), digits].mean(), rtol=1e-5)


def test_mode_seeking_loss_is_low_when_one_digit_is_drawn_differently():
    rng = np.random.default_rng(4)
    z = tf.constant(rng.standard_normal((30, 8)).astype(np.float32))
    varied = tf.constant(rng.uniform(-1, 1, (30, 28, 28, 1)).astype(np.float32))
    one_drawing = tf.constant(np.tile(varied.numpy()[:10], (3, 1, 1, 1)))  # repeats every 10
    assert float(losses.mode_seeking_loss(varied, z, 10)) < 10
    assert float(losses.mode_seeking_loss(one_drawing, z, 10)) > 1e4  # collapsed: 1 / 1e-5
    # the hand-computed ratio: mean |x_i+10 - x_i| over mean |z_i+10 - z_i|, pair by pair
    x, zz = varied.numpy(), z.numpy()
    ratio = np.mean(np.abs(x[10:] - x[:-10]).mean((1, 2, 3)) / np.abs(zz[10:] - zz[:-10]).mean(1))
    assert float(losses.mode_seeking_loss(varied, z, 10)) == pytest.approx(1 / (ratio + 1e-5),
                                                                           rel=1e-4)
