"""Losses from logits, model shapes per variant, and one fused step that trains both networks."""
import json

import numpy as np
import pytest
import tensorflow as tf

from sgan_core import losses
from sgan_core.config import GAN_VARIANTS, VARIANTS, RunConfig, make_config
from sgan_core.models import (build_classifier, build_discriminator, build_generator,
                              copy_to_plain, raw_width, split_logits, split_logits_np)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_losses_finite_for_extreme_logits(variant, scale):
    raw = tf.Variable(scale * np.random.default_rng(0).standard_normal(
        (8, raw_width(variant))).astype(np.float32))
    labels = tf.constant(np.arange(8) % 10, tf.int32)
    with tf.GradientTape() as tape:
        total = (losses.supervised_loss(variant, raw, labels)
                 + losses.discriminator_real_loss(variant, raw)
                 + losses.discriminator_fake_loss(variant, raw)
                 + losses.generator_nonsat_loss(variant, raw)
                 + losses.prediction_entropy(raw)
                 + losses.pseudo_label_loss(raw, -raw, 0.5))
    grad = tape.gradient(total, raw)
    assert np.isfinite(total.numpy()) and np.all(np.isfinite(grad.numpy()))


def test_pseudo_label_loss_uses_only_confident_teacher_predictions():
    student = np.random.default_rng(2).standard_normal((4, 10)).astype(np.float32)
    teacher = np.zeros((4, 10), np.float32)
    teacher[0, 3] = teacher[2, 7] = 20.0           # sure of rows 0 and 2, uniform on 1 and 3
    loss = losses.pseudo_label_loss(tf.constant(student), tf.constant(teacher), 0.95).numpy()
    log_p = student - np.log(np.exp(student).sum(1, keepdims=True))
    expected = -(log_p[0, 3] + log_p[2, 7]) / 4    # the mean runs over the whole batch
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    unsure = losses.pseudo_label_loss(tf.constant(student), tf.zeros((4, 10)), 0.95).numpy()
    assert unsure == 0.0


def test_pseudo_keep_drops_the_least_confident_of_each_predicted_digit():
    student = np.random.default_rng(3).standard_normal((6, 10)).astype(np.float32)
    teacher = np.full((6, 10), -5.0, np.float32)
    teacher[[0, 1, 2], 0] = [9.0, 6.0, 8.0]        # three read as 0, row 1 the least sure
    teacher[[3, 4, 5], 8] = [5.0, 9.0, 7.0]        # three read as 8, row 3 the least sure
    log_p = student - np.log(np.exp(student).sum(1, keepdims=True))

    def loss(keep):
        return losses.pseudo_label_loss(tf.constant(student), tf.constant(teacher), 0.95,
                                        keep).numpy()

    everything = -(log_p[[0, 1, 2], 0].sum() + log_p[[3, 4, 5], 8].sum()) / 6
    np.testing.assert_allclose(loss(1.0), everything, rtol=1e-5)
    top_two = -(log_p[[0, 2], 0].sum() + log_p[[4, 5], 8].sum()) / 6
    np.testing.assert_allclose(loss(0.6), top_two, rtol=1e-5)
    top_one = -(log_p[0, 0] + log_p[4, 8]) / 6
    np.testing.assert_allclose(loss(0.3), top_one, rtol=1e-5)


def test_alignment_divides_by_the_running_mean_and_tracks_it():
    mean = tf.Variable(np.full(10, 0.1, np.float32))
    teacher = np.zeros((4, 10), np.float32)
    teacher[:, 3] = 5.0                           # a teacher that always says 3
    out = losses.aligned_teacher_logits(tf.constant(teacher), mean, momentum=0.5).numpy()
    p = np.exp(teacher) / np.exp(teacher).sum(1, keepdims=True)
    expected_mean = 0.5 * 0.1 + 0.5 * p[0]
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-5)
    q = np.exp(out) / np.exp(out).sum(1, keepdims=True)
    aligned = p / expected_mean
    np.testing.assert_allclose(q, aligned / aligned.sum(1, keepdims=True), rtol=1e-4)
    assert q[0, 3] < p[0, 3]                      # the over-predicted digit is damped
    # a teacher whose mean is already uniform is left as it was
    mean.assign(np.full(10, 0.1, np.float32))
    flat = np.eye(10, dtype=np.float32) * 4.0
    out = losses.aligned_teacher_logits(tf.constant(flat), mean, momentum=0.9).numpy()
    np.testing.assert_allclose(tf.nn.softmax(out).numpy(), tf.nn.softmax(flat).numpy(),
                               rtol=1e-4)


@pytest.mark.parametrize("variant", GAN_VARIANTS)
def test_real_probability_matches_the_papers(variant):
    raw = np.random.default_rng(1).standard_normal((5, raw_width(variant))).astype(np.float32)
    _, real_logit = split_logits(variant, tf.constant(raw))
    p_real = 1 / (1 + np.exp(-real_logit.numpy()))
    e = np.exp(raw.astype(np.float64))
    if variant == "stacked":    # D = Z / (Z + 1), Z = sum exp(l)
        expected = e.sum(1) / (e.sum(1) + 1)
    elif variant == "multi":    # 1 - softmax(l)[fake]
        expected = 1 - e[:, 10] / e.sum(1)
    else:                       # sigmoid of the real/fake head
        expected = 1 / (1 + np.exp(-raw[:, 10]))
    np.testing.assert_allclose(p_real, expected, rtol=1e-5)
    np.testing.assert_allclose(split_logits_np(variant, raw)[1], real_logit.numpy(), rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("arch", ["mlp", "conv", "cnn"])
def test_shapes_and_plain_export(variant, arch):
    cfg = make_config("fast", variant=variant, arch=arch)
    d = build_discriminator(cfg)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    feats, raw = d(x, training=False)
    assert raw.shape == (4, raw_width(variant)) and feats.shape[0] == 4
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
    if variant != "supervised":
        assert build_generator(cfg)(np.zeros((2, cfg.latent_dim), np.float32)).shape == \
            (2, 28, 28, 1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_step_changes_both_networks(variant, small_mnist, runs_dir):
    from sgan_core.trainer import Trainer, create_run
    cfg = make_config("fast", variant=variant, steps=5, mnist_path=small_mnist)
    trainer = Trainer(cfg, create_run(cfg, runs_dir))
    d_before = [w.copy() for w in trainer.D.get_weights()]
    g_before = [w.copy() for w in trainer.G.get_weights()] if trainer.G else []
    metrics = trainer.train_step()
    assert all(np.isfinite(v) for v in metrics.values())
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, trainer.D.get_weights()))
    if variant == "supervised":
        assert trainer.G is None
    else:
        # every trainable generator weight moves, not just some: nothing is frozen by mistake
        changed = [not np.array_equal(a, b) for a, b in zip(g_before, trainer.G.get_weights())]
        assert sum(changed) >= len(trainer.G.trainable_variables)


def test_cnn_width_comes_from_the_config_and_survives_config_json():
    cfg = make_config("fast", variant="shared", cnn_filters=(8, 16, 24))
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again.cnn_filters == (8, 16, 24) and again == cfg
    d = build_discriminator(again)
    assert [d.get_layer(f"d_conv{i}").filters for i in range(3)] == [8, 16, 24]
    assert d.outputs[0].shape[-1] == 4 * 4 * 24


def test_aligned_training_tracks_the_teacher_mean_and_checkpoints_it(small_mnist, runs_dir):
    from sgan_core.trainer import Trainer, create_run
    cfg = make_config("fast", variant="shared", steps=5, align_pseudo=True,
                      mnist_path=small_mnist)
    run = create_run(cfg, runs_dir)
    trainer = Trainer(cfg, run)
    for _ in range(3):
        assert all(np.isfinite(v) for v in trainer.train_step().values())
    mean = trainer.pred_mean.numpy()
    assert not np.allclose(mean, 0.1) and np.isclose(mean.sum(), 1.0, atol=1e-4)
    trainer.save_checkpoint()
    again = Trainer(cfg, run)
    assert again.load_checkpoint()
    np.testing.assert_array_equal(again.pred_mean.numpy(), mean)


def augmented_view(small_mnist, runs_dir, **option):
    """(x, the trainer's augmentation of x with its rng seeded 9) for a `fast` run with one
    option set, after checking the option survives config.json."""
    from sgan_core.trainer import Trainer, create_run
    cfg = make_config("fast", variant="shared", steps=5, mnist_path=small_mnist, **option)
    saved = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert {k: getattr(saved, k) for k in option} == option
    trainer = Trainer(cfg, create_run(cfg, runs_dir))
    x = trainer.x_lab[:20]
    trainer.rng = np.random.default_rng(9)
    return x, trainer._augment(x)


def test_thickness_option_reaches_the_trainers_augmentation(small_mnist, runs_dir):
    from sgan_core.augment import affine_images, thickness_images
    x, view = augmented_view(small_mnist, runs_dir, thickness=0.8)
    rng = np.random.default_rng(9)
    expected = affine_images(thickness_images(x, 0.8, rng, -1.0), rng, -1.0)
    np.testing.assert_array_equal(view, expected)
    assert np.abs(expected - affine_images(x, np.random.default_rng(9), -1.0)).max() > 0.5


@pytest.mark.parametrize("option, value", [("elastic", 2.5), ("stretch", 0.3), ("shear", 0.3)])
def test_affine_options_reach_the_trainers_augmentation(small_mnist, runs_dir, option, value):
    from sgan_core.augment import affine_images
    x, plain = augmented_view(small_mnist, runs_dir, **{option: 0.0})
    _, changed = augmented_view(small_mnist, runs_dir, **{option: value})
    np.testing.assert_array_equal(plain, affine_images(x, np.random.default_rng(9), -1.0))
    assert np.abs(changed - plain).max() > 0.5
    np.testing.assert_array_equal(
        changed, affine_images(x, np.random.default_rng(9), -1.0, **{option: value}))
