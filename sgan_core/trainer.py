"""The SGAN trainer: one fused tf.function per step, evaluation, checkpoints and the run directory.

The step updates the discriminator on labeled, unlabeled and generated images and the generator
in one call, with explicit GradientTapes and explicit variable lists (Keras 3 ignores the
tutorials' `trainable = False` trick). Batches are assembled in NumPy from a seeded generator whose
state is checkpointed, so a resumed run continues the same stream of batches.
"""
from __future__ import annotations

import io
import json
import math
import os
import signal
import time

import numpy as np

from .augment import affine_images, cutout_images, shift_images, thickness_images
from .config import ConfigError, RunConfig
from .data import Mnist, label_budget_indices, load_mnist, scale_images
from .grids import grid_image, png_bytes
from .rundir import RunDir, atomic_write_bytes, new_run_id

HEARTBEAT_EVERY_S = 1.0
EVAL_CHUNK = 2000


def configure_threads(intra_op: int, inter_op: int = 1) -> None:
    """Limit TensorFlow's CPU threads; must run before TensorFlow executes anything."""
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra_op))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter_op))
    except RuntimeError:
        pass  # already initialised (e.g. in tests): keep the current setting


class TrainingFailed(RuntimeError):
    pass


def _linear_decay_class():
    import keras

    class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
        """Constant learning rate, then a linear decay to zero over the last part of the run.

        Reads the run's progress (0..1, by steps or by the time budget, whichever is further)
        from a variable the trainer updates, so time-budgeted runs decay too.
        """

        def __init__(self, lr, progress, decay_start):
            self.lr, self.progress, self.start = float(lr), progress, float(decay_start)

        def __call__(self, step):
            keep = keras.ops.clip((1.0 - self.progress) / max(1e-6, 1.0 - self.start), 0.0, 1.0)
            return self.lr * keep

        def get_config(self):
            return {"lr": self.lr, "decay_start": self.start}

    return LinearDecay


class Trainer:
    def __init__(self, cfg: RunConfig, run: RunDir, data: Mnist | None = None):
        import keras
        import tensorflow as tf
        from . import losses, models

        self.cfg, self.run = cfg, run
        self.tf, self.keras, self.losses, self.models = tf, keras, losses, models
        keras.utils.set_random_seed(cfg.seed)
        data = data or load_mnist(cfg.mnist_path)
        self.background = float(cfg.input_range[0])
        self.x_train = scale_images(data.x_train, cfg.input_range)
        self.x_test = scale_images(data.x_test, cfg.input_range)
        self.y_test = data.y_test.astype(np.int32)
        if cfg.labels > len(data.y_train):
            raise ConfigError(f"label budget {cfg.labels} exceeds the {len(data.y_train)} "
                              f"training images in {data.source}")
        lab_idx = label_budget_indices(data.y_train, cfg.labels, cfg.seed)
        self.x_lab, self.y_lab = self.x_train[lab_idx], data.y_train[lab_idx].astype(np.int32)
        self.rng = np.random.default_rng(cfg.seed + 1)
        self.lab_queue = np.zeros(0, dtype=np.int64)
        self.fixed_z = np.random.default_rng(12345).standard_normal(
            (100, cfg.latent_dim)).astype(np.float32)

        self.D = models.build_discriminator(cfg)
        self.G = models.build_generator(cfg) if cfg.is_gan else None
        self.D_eval = self.D
        if cfg.ema_decay > 0:
            self.D_eval = keras.models.clone_model(self.D)
            self.D_eval.set_weights(self.D.get_weights())
        self.progress = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self.pred_mean = tf.Variable(tf.fill([models.N_CLASSES], 1.0 / models.N_CLASSES),
                                     trainable=False)  # the teacher's running mean prediction
        self.opt_d = keras.optimizers.Adam(self._schedule(cfg.lr_d), beta_1=cfg.beta_1)
        self.opt_d.build(self.D.trainable_variables)
        self.opt_g = None
        if self.G is not None:
            self.opt_g = keras.optimizers.Adam(self._schedule(cfg.lr_g), beta_1=cfg.beta_1)
            self.opt_g.build(self.G.trainable_variables)
        self.step = 0
        self.elapsed_before = 0.0
        self._stop_signal = False
        self._train_step = tf.function(self._step, jit_compile=cfg.jit_compile)
        self._eval_logits = tf.function(lambda x: self.D_eval(x, training=False)[1],
                                        jit_compile=cfg.jit_compile)

    # ---------- the fused step ----------
    def _schedule(self, lr):
        return _linear_decay_class()(lr, self.progress, self.cfg.lr_decay_start)

    def _step(self, x_lab, y_lab, x_unl, z, x_unl_clean):
        tf, L, cfg = self.tf, self.losses, self.cfg
        v = cfg.variant
        n_lab, n_unl = tf.shape(x_lab)[0], tf.shape(x_unl)[0]
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            if self.G is None:
                _, raw_lab = self.D(x_lab, training=True)
                loss_sup = L.supervised_loss(v, raw_lab, y_lab)
                loss_real = loss_fake = loss_g = tf.constant(0.0)
                loss_d = loss_sup
            else:
                x_fake = self.G(z, training=True)
                feats, raw = self.D(tf.concat([x_lab, x_unl, x_fake], 0), training=True)
                raw_lab, raw_unl, raw_fake = tf.split(raw, [n_lab, n_unl, -1])
                _, f_unl, f_fake = tf.split(feats, [n_lab, n_unl, -1])
                loss_sup = L.supervised_loss(v, raw_lab, y_lab)
                loss_real = L.discriminator_real_loss(v, raw_unl)
                loss_fake = L.discriminator_fake_loss(v, raw_fake)
                loss_d = loss_sup + cfg.unsup_weight * (loss_real + loss_fake)
                if cfg.entropy_weight:
                    loss_d += cfg.entropy_weight * L.prediction_entropy(raw_unl)
                if cfg.pseudo_weight:
                    # the teacher sees the unshifted images, the student the shifted ones
                    _, raw_teacher = self.D_eval(x_unl_clean, training=False)
                    if cfg.align_pseudo:
                        raw_teacher = L.aligned_teacher_logits(raw_teacher, self.pred_mean)
                    loss_d += cfg.pseudo_weight * L.pseudo_label_loss(
                        raw_unl, raw_teacher, cfg.pseudo_threshold, cfg.pseudo_keep)
                if cfg.generator_loss == "feature_matching":
                    loss_g = L.feature_matching_loss(f_unl, f_fake)
                else:
                    loss_g = L.generator_nonsat_loss(v, raw_fake)
        d_vars = self.D.trainable_variables
        self.opt_d.apply(d_tape.gradient(loss_d, d_vars), d_vars)
        if self.G is not None:
            g_vars = self.G.trainable_variables
            self.opt_g.apply(g_tape.gradient(loss_g, g_vars), g_vars)
        if self.D_eval is not self.D:
            # EMA with a warm-up so early evaluations are not dominated by the random init
            t = tf.cast(self.opt_d.iterations, tf.float32)
            decay = tf.minimum(cfg.ema_decay, (1.0 + t) / (10.0 + t))
            for e, w in zip(self.D_eval.trainable_variables, d_vars):
                e.assign(decay * e + (1.0 - decay) * w)
        return {"loss_sup": loss_sup, "loss_d_real": loss_real, "loss_d_fake": loss_fake,
                "loss_g": loss_g, "train_acc": L.accuracy(v, raw_lab, y_lab)}

    # ---------- batches ----------
    def _labeled_batch(self):
        """Cycle through all labeled images in shuffled order (an epoch at a time)."""
        n = min(self.cfg.batch_size, len(self.x_lab)) if self.cfg.is_gan else self.cfg.batch_size
        while len(self.lab_queue) < n:
            self.lab_queue = np.concatenate([self.lab_queue, self.rng.permutation(len(self.x_lab))])
        idx, self.lab_queue = self.lab_queue[:n], self.lab_queue[n:]
        return self._augment(self.x_lab[idx]), self.y_lab[idx]

    def _augment(self, x):
        if self.cfg.strong_augment:
            x = thickness_images(x, self.cfg.thickness, self.rng, self.background)
            return affine_images(x, self.rng, self.background, elastic=self.cfg.elastic,
                                 stretch=self.cfg.stretch, shear=self.cfg.shear)
        return shift_images(x, self.cfg.augment_shift, self.rng, self.background)

    def next_batch(self):
        x_lab, y_lab = self._labeled_batch()
        bs = self.cfg.batch_size
        x_clean = x_unl = self.x_train[self.rng.integers(0, len(self.x_train), bs)]
        if self.cfg.augment_unlabeled:
            x_unl = cutout_images(self._augment(x_unl), self.cfg.cutout, self.rng,
                                  self.background)
        z = self.rng.standard_normal((bs, self.cfg.latent_dim)).astype(np.float32)
        return x_lab, y_lab, x_unl, z, x_clean

    def run_progress(self) -> float:
        frac = self.step / self.cfg.steps
        if self.cfg.max_seconds:
            frac = max(frac, self.elapsed() / self.cfg.max_seconds)
        return min(1.0, frac)

    def train_step(self) -> dict:
        self.progress.assign(self.run_progress())
        out = self._train_step(*self.next_batch())
        self.step += 1
        return {k: float(v) for k, v in out.items()}

    # ---------- evaluation and outputs ----------
    def evaluate(self, should_abort=lambda: False) -> float | None:
        correct = 0
        for i in range(0, len(self.x_test), EVAL_CHUNK):
            if should_abort():
                return None
            raw = self._eval_logits(self.x_test[i:i + EVAL_CHUNK]).numpy()
            correct += int((raw[:, :10].argmax(-1) == self.y_test[i:i + EVAL_CHUNK]).sum())
        return correct / len(self.x_test)

    def generate(self, z=None) -> np.ndarray:
        return self.G(self.fixed_z if z is None else z, training=False).numpy()

    def save_samples(self) -> None:
        if self.G is None:
            return
        img = grid_image(self.generate(), 10, self.cfg.input_range)
        atomic_write_bytes(self.run.samples_dir / f"step_{self.step:06d}.png", png_bytes(img))

    def _save_model(self, model, path) -> None:
        tmp = path.with_name(f".{path.stem}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)

    def export_models(self) -> None:
        m = self.models
        plain = m.copy_to_plain(self.D_eval, m.build_discriminator(self.cfg, train=False))
        self._save_model(m.build_classifier(plain, self.cfg.variant), self.run.classifier_path)
        if self.G is not None:
            self._save_model(m.build_logits_model(plain), self.run.discriminator_path)
            self._save_model(self.G, self.run.generator_path)

    def _checkpoint_groups(self) -> dict:
        """Every variable resume needs, by group: weights, EMA weights, optimiser state."""
        groups = {"d": self.D.weights, "opt_d": self.opt_d.variables}
        if self.D_eval is not self.D:
            groups["ema"] = self.D_eval.weights
        if self.G is not None:
            groups.update(g=self.G.weights, opt_g=self.opt_g.variables)
        if self.cfg.align_pseudo:
            groups["align"] = [self.pred_mean]
        return groups

    def _state_arrays(self) -> dict:
        arrays = {}
        for name, variables in self._checkpoint_groups().items():
            for i, var in enumerate(variables):
                arrays[f"{name}/{i}"] = np.asarray(var.numpy())
        meta = {"step": self.step, "elapsed_s": self.elapsed(),
                "rng": self.rng.bit_generator.state, "lab_queue": self.lab_queue.tolist()}
        arrays["meta"] = np.array(json.dumps(meta))
        return arrays

    def save_checkpoint(self) -> None:
        buf = io.BytesIO()
        np.savez(buf, **self._state_arrays())
        atomic_write_bytes(self.run.ckpt_dir / "state.npz", buf.getvalue())
        self.export_models()

    def load_checkpoint(self) -> bool:
        path = self.run.ckpt_dir / "state.npz"
        if not path.is_file():
            return False
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        for name, variables in self._checkpoint_groups().items():
            for i, var in enumerate(variables):
                var.assign(arrays[f"{name}/{i}"])
        meta = json.loads(str(arrays["meta"]))
        self.step = int(meta["step"])
        self.elapsed_before = float(meta["elapsed_s"])
        self.rng.bit_generator.state = meta["rng"]
        self.lab_queue = np.asarray(meta["lab_queue"], dtype=np.int64)
        return True

    def elapsed(self) -> float:
        start = getattr(self, "_t_start", None)
        return self.elapsed_before + (time.perf_counter() - start if start else 0.0)

    # ---------- the loop ----------
    def _should_stop(self) -> bool:
        return self._stop_signal or self.run.stop_requested()

    def _install_signal_handlers(self) -> None:
        def handler(signum, frame):
            self._stop_signal = True
        try:
            signal.signal(signal.SIGTERM, handler)
            signal.signal(signal.SIGINT, handler)
        except ValueError:
            pass  # not the main thread (tests)

    def fit(self, progress=None) -> dict:
        """Train to cfg.steps (or cfg.max_seconds); returns the final status dict."""
        cfg, run = self.cfg, self.run
        self._install_signal_handlers()
        run.clear_stop()
        self._t_start = time.perf_counter()
        status = run.write_status(state="running", step=self.step, total_steps=cfg.steps,
                                  pid=os.getpid(), message="training", elapsed_s=self.elapsed())
        acc_sum, acc_n = {}, 0
        last_beat, test_acc = 0.0, status.get("test_acc")
        reason = "finished"
        if self.step == 0:
            self.save_samples()
        while self.step < cfg.steps:
            if self._should_stop():
                reason = "stopped"
                break
            m = self.train_step()
            bad = [k for k, val in m.items() if not math.isfinite(val)]
            if bad:
                msg = f"training diverged: {', '.join(bad)} became NaN or infinite at step {self.step}"
                run.write_status(state="failed", message=msg, step=self.step - 1)
                raise TrainingFailed(msg)
            for k, val in m.items():
                acc_sum[k] = acc_sum.get(k, 0.0) + val
            acc_n += 1
            last = self.step >= cfg.steps or bool(cfg.max_seconds and
                                                   self.elapsed() >= cfg.max_seconds)
            at_eval = self.step % cfg.eval_every == 0 or last
            if self.step % cfg.log_every == 0 or at_eval:
                row = {"step": self.step, "elapsed_s": round(self.elapsed(), 3)}
                row.update({k: s / acc_n for k, s in acc_sum.items()})
                acc_sum, acc_n = {}, 0
                if at_eval:
                    acc = self.evaluate(lambda: not last and self._should_stop())
                    if acc is not None:
                        row["test_acc"] = test_acc = acc
                run.append_metrics([row])
            if last:
                break
            if self.step % cfg.sample_every == 0:
                self.save_samples()
            if self.step % cfg.checkpoint_every == 0:
                self.save_checkpoint()
            now = time.perf_counter()
            if now - last_beat >= HEARTBEAT_EVERY_S:
                last_beat = now
                run.write_status(step=self.step, elapsed_s=self.elapsed(), test_acc=test_acc)
                if progress:
                    progress(self.step, cfg.steps, test_acc)
        if acc_n:  # stopped between log steps: keep the averages of the steps since the last row
            row = {"step": self.step, "elapsed_s": round(self.elapsed(), 3)}
            row.update({k: s / acc_n for k, s in acc_sum.items()})
            run.append_metrics([row])
        if self.step % cfg.sample_every:
            self.save_samples()
        self.save_checkpoint()
        if reason == "finished" and self.step < cfg.steps:
            message = f"time budget of {cfg.max_seconds:g} s reached at step {self.step}"
        else:
            message = "finished" if reason == "finished" else f"stopped at step {self.step}"
        run.clear_stop()
        return run.write_status(state=reason, step=self.step, elapsed_s=self.elapsed(),
                                test_acc=test_acc, message=message, finished_at=time.time())


def create_run(cfg: RunConfig, runs_dir, run_id: str | None = None) -> RunDir:
    run = RunDir(os.path.join(str(runs_dir), run_id or new_run_id(cfg)))
    n = 1
    while run.exists():  # two runs started within the same second
        n += 1
        run = RunDir(os.path.join(str(runs_dir), f"{run_id or new_run_id(cfg)}-{n}"))
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_config(cfg.to_dict())
    run.write_status(state="queued", step=0, total_steps=cfg.steps, message="queued",
                     created=time.time())
    return run


def prepare_resume(run: RunDir) -> Trainer:
    """A Trainer restored from the run's last checkpoint, with metrics past it dropped."""
    cfg = RunConfig.from_dict(run.read_config())
    trainer = Trainer(cfg, run)
    trainer.load_checkpoint()
    run.truncate_metrics(trainer.step)
    for step, path in run.sample_files():
        if step > trainer.step:
            path.unlink(missing_ok=True)
    return trainer
