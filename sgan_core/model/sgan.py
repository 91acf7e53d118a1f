"""The SGAN model object: discriminator, generator, the weight-averaged discriminator, their
optimisers and the fused training step.

`train_step` updates the discriminator on labeled, unlabeled and generated images and the
generator in one `tf.function`, with explicit GradientTapes and variable lists (Keras 3 ignores
the tutorials' `trainable = False` trick), and returns the step's metrics. The supervised
baseline is the same object without a generator.
"""
from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from sgan_core.model import losses
from sgan_core.model import networks as models
from sgan_core.model.selflabels import PseudoLabeler
from sgan_core.model.variants import N_CLASSES

FIXED_Z_SEED = 12345  # the latent vectors of every sample grid of every run


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then a linear decay to zero over the last part of the run.

    Reads the run's progress (0..1, by steps or by the time budget, whichever is further) from
    a variable the trainer updates, so time-budgeted runs decay too.
    """

    def __init__(self, lr, progress, decay_start):
        self.lr, self.progress, self.start = float(lr), progress, float(decay_start)

    def __call__(self, step):
        keep = keras.ops.clip((1.0 - self.progress) / max(1e-6, 1.0 - self.start), 0.0, 1.0)
        return self.lr * keep

    def get_config(self):
        return {"lr": self.lr, "decay_start": self.start}


class SGAN:
    def __init__(self, cfg):  # a config.RunConfig
        self.cfg, self.variant = cfg, cfg.variant_spec
        self.D = models.build_discriminator(cfg)
        self.G = models.build_generator(cfg) if cfg.is_gan else None
        self.D_eval = self.D  # the weight average (EMA) of D, which evaluation and export use
        if cfg.ema_decay > 0:
            self.D_eval = keras.models.clone_model(self.D)
            self.D_eval.set_weights(self.D.get_weights())
        self.progress = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self.pseudo = PseudoLabeler(cfg)
        self.opt_d = self._optimizer(cfg.lr_d, self.D, "opt_d")
        self.opt_g = self._optimizer(cfg.lr_g, self.G, "opt_g") if self.G is not None else None
        self.fixed_z = np.random.default_rng(FIXED_Z_SEED).standard_normal(
            (100, cfg.latent_dim)).astype(np.float32)

    def _optimizer(self, lr, model, name):
        opt = keras.optimizers.Adam(LinearDecay(lr, self.progress, self.cfg.lr_decay_start),
                                    beta_1=self.cfg.beta_1, name=name)
        opt.build(model.trainable_variables)
        return opt

    @tf.function
    def train_step(self, x_lab, y_lab, x_unl, z, x_unl_clean, game=True):
        """One update of D and G on a batch (the fields of a batches.Batch): a dict of metrics.
        The learning rates follow `self.progress` (0..1), which the caller sets. game=False
        (a Python bool: its own graph) is a step without the real/fake game, as `selftrain`
        takes: no fakes, no real/fake terms, no generator update (cfg.game_every)."""
        cfg, v = self.cfg, self.variant
        game = game and self.G is not None
        n_lab, n_unl = tf.shape(x_lab)[0], tf.shape(x_unl)[0]
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            loss_real = loss_fake = loss_g = tf.constant(0.0)
            if not game:  # the baseline, self-training, or a step between two games
                x = tf.concat([x_lab, x_unl], 0) if v.unlabeled else x_lab
                _, raw = self.D(x, training=True)
                raw_lab, raw_unl = tf.split(raw, [n_lab, -1])
                loss_sup = losses.supervised_loss(v, raw_lab, y_lab)
                loss_d = loss_sup
            else:
                z_noise = z
                if cfg.conditional:
                    y_fake = tf.range(tf.shape(z)[0]) % N_CLASSES
                    z = tf.concat([z, tf.one_hot(y_fake, N_CLASSES, dtype=z.dtype)], 1)
                x_fake = self.G(z, training=True)
                feats, raw = self.D(tf.concat([x_lab, x_unl, x_fake], 0), training=True)
                raw_lab, raw_unl, raw_fake = tf.split(raw, [n_lab, n_unl, -1])
                _, f_unl, f_fake = tf.split(feats, [n_lab, n_unl, -1])
                loss_sup = losses.supervised_loss(v, raw_lab, y_lab)
                loss_real = losses.discriminator_real_loss(v, raw_unl)
                loss_fake = losses.discriminator_fake_loss(v, raw_fake)
                loss_d = loss_sup + cfg.unsup_weight * (loss_real + loss_fake)
                if cfg.generator_loss == "feature_matching":
                    loss_g = losses.feature_matching_loss(f_unl, f_fake)
                    if cfg.nonsat_weight:
                        loss_g += cfg.nonsat_weight * losses.generator_nonsat_loss(v, raw_fake)
                else:
                    loss_g = losses.generator_nonsat_loss(v, raw_fake)
                if cfg.conditional:
                    loss_g += cfg.class_weight * losses.generator_class_loss(raw_fake, y_fake)
                if cfg.diversity_weight:  # pairs N_CLASSES apart: the same digit if told one
                    loss_g += cfg.diversity_weight * losses.mode_seeking_loss(
                        x_fake, z_noise, N_CLASSES)
            if v.unlabeled and cfg.pseudo_weight:
                # the teacher (the weight average) sees the clean images, the student the
                # augmented ones
                _, raw_teacher = self.D_eval(x_unl_clean, training=False)
                probs, thresholds = self.pseudo.targets(raw_teacher)
                loss_d += cfg.pseudo_weight * losses.pseudo_label_loss(raw_unl, probs,
                                                                       thresholds)
        d_vars = self.D.trainable_variables
        self.opt_d.apply(d_tape.gradient(loss_d, d_vars), d_vars)
        if game:
            g_vars = self.G.trainable_variables
            self.opt_g.apply(g_tape.gradient(loss_g, g_vars), g_vars)
        if self.D_eval is not self.D:
            # EMA with a warm-up so early evaluations are not dominated by the random init
            t = tf.cast(self.opt_d.iterations, tf.float32)
            decay = tf.minimum(cfg.ema_decay, (1.0 + t) / (10.0 + t))
            for e, w in zip(self.D_eval.trainable_variables, d_vars):
                e.assign(decay * e + (1.0 - decay) * w)
        metrics = {"loss_sup": loss_sup, "train_acc": losses.accuracy(raw_lab, y_lab)}
        if game or self.G is None:
            metrics.update(loss_d_real=loss_real, loss_d_fake=loss_fake, loss_g=loss_g)
        return metrics

    # ---------- reading the model ----------
    def read(self, x: np.ndarray, chunk: int = 2000,
             should_abort=lambda: False) -> np.ndarray | None:
        """The weight-averaged discriminator's raw logits for x (see variants.py), in chunks;
        None if aborted part-way."""
        out = [np.zeros((0, self.variant.raw_width), np.float32)]
        for i in range(0, len(x), chunk):
            if should_abort():
                return None
            out.append(self.raw_logits(x[i:i + chunk]).numpy())
        return np.concatenate(out)

    def read_with_features(self, x: np.ndarray, n_features: int, chunk: int = 2000,
                           should_abort=lambda: False):
        """(raw logits of x, penultimate features of its first n_features images), the first
        images read once for both; None if aborted part-way."""
        if n_features == 0:
            raw = self.read(x, chunk, should_abort)
            return None if raw is None else (raw, np.zeros((0, 0), np.float32))
        feats, raw = self.features(x[:n_features])
        rest = self.read(x[n_features:], chunk, should_abort)
        return None if rest is None else (np.concatenate([raw, rest]), feats)

    def accuracy(self, raw: np.ndarray, y: np.ndarray) -> float:
        """Share of images whose highest digit logit is their label."""
        return int((raw[:, :N_CLASSES].argmax(-1) == y).sum()) / len(y)

    @tf.function
    def raw_logits(self, x):
        return self.D_eval(x, training=False)[1]

    def features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(penultimate features, raw logits) of the weight-averaged discriminator."""
        feats, raw = self._features_and_logits(x)
        return feats.numpy(), raw.numpy()

    @tf.function
    def _features_and_logits(self, x):
        return self.D_eval(x, training=False)

    def generate(self, z=None) -> np.ndarray:
        """Generated images for z (default: the fixed latent vectors of the sample grids)."""
        z = self.fixed_z if z is None else z
        return self.G(models.generator_input(self.cfg, z), training=False).numpy()

    # ---------- saving ----------
    def variable_groups(self) -> dict[str, dict]:
        """Every variable a resume needs, by group and name: weights, EMA weights, optimiser
        state. Names are the variables' Keras paths, fixed by the networks' layer names."""
        def named(variables):
            by_name = {v.path: v for v in variables}
            assert len(by_name) == len(variables), "two variables share a name"
            return by_name
        groups = {"d": named(self.D.weights), "opt_d": named(self.opt_d.variables)}
        if self.D_eval is not self.D:
            groups["ema"] = named(self.D_eval.weights)
        if self.G is not None:
            groups.update(g=named(self.G.weights), opt_g=named(self.opt_g.variables))
        if self.pseudo.variables:
            groups["pseudo"] = self.pseudo.variables
        return groups

    def export(self, classifier_path, discriminator_path, generator_path) -> None:
        """The run's model files: classifier, discriminator logits and generator, safe-mode
        loadable (weight norm folded into plain layers, no Lambda)."""
        plain = models.copy_to_plain(self.D_eval, models.build_discriminator(self.cfg,
                                                                             train=False))
        _save(models.build_classifier(plain, self.cfg.variant), classifier_path)
        if self.G is not None:
            _save(models.build_logits_model(plain), discriminator_path)
            _save(self.G, generator_path)


def _save(model, path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)
