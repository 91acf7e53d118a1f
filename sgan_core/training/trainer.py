"""The training loop: an SGAN, its batches, and small hooks that write the run directory.

    until the last step or a stop request:
        one fused step -> metrics row (with a test evaluation every eval_every steps)
                       -> sample grid -> checkpoint -> status heartbeat   (hooks.py)

A resumed run restores the model, optimiser and batch-stream state from its last checkpoint
and continues exactly where that checkpoint was taken.
"""
from __future__ import annotations

import math
import os
import platform
import signal
import time

import keras
import numpy as np
import tensorflow as tf

from sgan_core.config import RunConfig
from sgan_core.data import DATASETS
from sgan_core.data.batches import Batches, pick_labels
from sgan_core.data.labeled import LabeledSet
from sgan_core.data.labeled import read as read_labeled
from sgan_core.data.mnist import Mnist, scale_images
from sgan_core.data.picks import PICKS
from sgan_core.files import atomic_write_bytes
from sgan_core.model.sgan import SGAN
from sgan_core.reading import insight
from sgan_core.runs.rundir import RunDir
from sgan_core.training import checkpoints
from sgan_core.training.events import EventFiles
from sgan_core.training.hooks import Checkpoints, Heartbeat, MetricsLog, SampleGrids

LOSS_LIMIT = 1e4   # healthy losses stay below ~20: a run past this has diverged
TEST_SUBSET = 1000  # test images of the frequent live reading (the full set decides the result)


def configure_threads(intra_op: int, inter_op: int = 1) -> None:
    """Limit TensorFlow's CPU threads; must run before TensorFlow executes anything."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra_op))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter_op))
    except RuntimeError:
        pass  # already initialised (e.g. in tests): keep the current setting


class TrainingFailed(RuntimeError):
    pass


class Trainer:
    def __init__(self, cfg: RunConfig, run: RunDir, data: Mnist | None = None):
        self.cfg, self.run = cfg, run
        keras.utils.set_random_seed(cfg.seed)
        data = data or DATASETS[cfg.dataset](cfg.mnist_path)
        self.batches = Batches(cfg, data, labeled_images(run, cfg, data))
        self.x_test = scale_images(data.x_test, cfg.input_range)
        self.y_test = data.y_test.astype(np.int32)
        self.sgan = SGAN(cfg)
        self.insight = insight.Recorder(self, data)
        self.events = None   # EventFiles while fit() runs
        self.test_reading = None
        self._samples = (None, None)
        self.step = 0
        self.elapsed_before = 0.0
        self._t_start = None
        self._stop_signal = False

    def start_from_parent(self) -> None:
        """A run taught from another (cfg.parent) starts from its weights: the networks and
        their weight average, not its optimiser state or step count."""
        groups = {k: v for k, v in self.sgan.variable_groups().items()
                  if k in ("d", "ema", "g", "pseudo")}
        try:
            checkpoints.load(self.run.init_path, groups)
        except Exception as e:  # damaged or from another network: say so, train nothing
            raise TrainingFailed(f"init.npz (the weights of {self.cfg.parent}) cannot be used: "
                                 f"{type(e).__name__}: {str(e)[:200]}") from None

    def fit(self, progress=None) -> dict:
        """Train to cfg.steps (or cfg.max_seconds); returns the final status dict."""
        cfg, run = self.cfg, self.run
        self._install_signal_handlers()
        run.clear_stop()
        self._t_start = time.perf_counter()
        run.write_status(state="running", step=self.step, total_steps=cfg.steps,
                         pid=os.getpid(), host=platform.node(),
                         node=os.environ.get("SGAN_NODE"), why={"code": "training"}, message="",
                         elapsed_s=self.elapsed(), started_at=time.time())
        self.events = EventFiles(str(run.path))
        log = MetricsLog(self)
        hooks = [log, SampleGrids(self), Checkpoints(self), Heartbeat(self, log, progress)]
        reason = "finished"
        while self.step < cfg.steps:
            if self.should_stop():  # a signal is not the user's Stop: it is an interruption
                reason = "interrupted" if self._stop_signal else "stopped"
                break
            self.sgan.progress.assign(self.run_progress())
            step = self.sgan.train_step(*self.batches.next(), game=self.game_now())
            metrics = {k: float(v) for k, v in step.items()}
            self.step += 1
            self._fail_if_diverged(metrics)
            last = self.step >= cfg.steps or self.out_of_time()
            for hook in hooks:
                hook.after_step(metrics, last)
            if last:
                break
        for hook in hooks:
            hook.at_end()
        self.events.close()
        run.clear_stop()
        return run.write_status(state=reason, step=self.step, elapsed_s=self.elapsed(),
                                test_acc=log.test_acc, why=self._why_ended(reason),
                                finished_at=time.time())

    def _fail_if_diverged(self, metrics: dict) -> None:
        bad = [k for k, val in metrics.items() if not math.isfinite(val)]
        huge = [k for k, val in metrics.items() if math.isfinite(val) and abs(val) > LOSS_LIMIT]
        if bad or huge:
            why = {"code": "diverged", "losses": ", ".join(bad or huge), "step": self.step,
                   "nonfinite": int(bool(bad)), "limit": LOSS_LIMIT}
            self.run.write_status(state="failed", why=why, message="", step=self.step - 1)
            raise TrainingFailed(f"training diverged at step {self.step}: {why['losses']}")

    def evaluate(self, should_abort=lambda: False, subset: bool = False) -> float | None:
        """Test accuracy of the weight-averaged model: all 10,000 images, or the first
        TEST_SUBSET (the live chart's cheap, frequent reading). None if a stop request cut it
        short. A full evaluation keeps its raw logits, and the features of the map's test
        images, in `test_reading` for the insight recorder."""
        if subset:
            raw = self.sgan.read(self.x_test[:TEST_SUBSET], should_abort=should_abort)
            return None if raw is None else self.sgan.accuracy(raw, self.y_test[:TEST_SUBSET])
        reading = self.sgan.read_with_features(self.x_test, self.insight.n_map,
                                               should_abort=should_abort)
        if reading is None:
            return None
        self.test_reading = reading
        return self.sgan.accuracy(reading[0], self.y_test)

    def fixed_samples(self):
        """The generator on the sample grid's fixed latent vectors at this step (None without
        a generator), made once for the grid and the map."""
        if self.sgan.G is None:
            return None
        if self._samples[0] != self.step:
            self._samples = (self.step, self.sgan.generate())
        return self._samples[1]

    # ---------- time and stopping ----------
    def elapsed(self) -> float:
        since = time.perf_counter() - self._t_start if self._t_start is not None else 0.0
        return self.elapsed_before + since

    def out_of_time(self) -> bool:
        return bool(self.cfg.max_seconds and self.elapsed() >= self.cfg.max_seconds)

    def run_progress(self) -> float:
        frac = self.step / self.cfg.steps
        if self.cfg.max_seconds:
            frac = max(frac, self.elapsed() / self.cfg.max_seconds)
        return min(1.0, frac)

    def game_now(self) -> bool:
        """Whether this step plays the real/fake game (cfg.game_every, cfg.game_until)."""
        cfg = self.cfg
        return self.step % cfg.game_every == 0 and self.run_progress() < cfg.game_until

    def should_stop(self) -> bool:
        return self._stop_signal or self.run.stop_requested()

    def _install_signal_handlers(self) -> None:
        def handler(signum, frame):
            self._stop_signal = True
        try:
            signal.signal(signal.SIGTERM, handler)
            signal.signal(signal.SIGINT, handler)
        except ValueError:
            pass  # not the main thread (tests)

    def _why_ended(self, reason: str) -> dict:
        if reason == "stopped":
            return {"code": "stopped", "step": self.step}
        if reason == "interrupted":  # SIGTERM or Ctrl-C; the checkpoint is saved
            return {"code": "signalled", "step": self.step}
        if self.step < self.cfg.steps:
            return {"code": "time_budget", "seconds": self.cfg.max_seconds, "step": self.step}
        return {"code": "finished"}

    # ---------- checkpoints ----------
    def save_checkpoint(self, export: bool = True) -> None:
        """ckpt/state.npz (everything a resume needs, checkpoints.py) and, with export, the
        plain-Keras models that the Draw page and `eval` read."""
        meta = {"step": self.step, "elapsed_s": self.elapsed(), **self.batches.state()}
        checkpoints.save(self.run.ckpt_dir / "state.npz", self.sgan.variable_groups(), meta)
        if export:
            run = self.run
            self.sgan.export(run.classifier_path, run.discriminator_path, run.generator_path)

    def load_checkpoint(self) -> bool:
        path = self.run.ckpt_dir / "state.npz"
        if not path.is_file():
            return False
        try:
            meta = checkpoints.load(path, self.sgan.variable_groups())
            self.step = int(meta["step"])
            self.elapsed_before = float(meta["elapsed_s"])
            self.batches.restore(meta)
        except Exception as e:  # a damaged file fails in many ways; all mean "cannot resume"
            raise TrainingFailed(f"ckpt/state.npz cannot be resumed from: it is damaged or "
                                 f"from another configuration ({type(e).__name__}: "
                                 f"{str(e)[:200]})") from None
        return True


def train(run: RunDir, data: Mnist | None = None, resume: bool = False, progress=None,
          on_start=None) -> dict:
    """Train the run (or resume it from its checkpoint) to its end; the final status. A run
    that fails says why in its status, and the error is raised: TrainingFailed (diverged, or
    its checkpoint cannot be resumed), DataError, or any other exception with its own text."""
    try:
        trainer = prepare_resume(run) if resume else Trainer(run.load_config(), run, data)
        if trainer.cfg.parent and trainer.step == 0:  # not yet trained: the parent's weights
            trainer.start_from_parent()
        if on_start:
            on_start(trainer.step)
        return trainer.fit(progress)
    except Exception as e:
        if run.read_status().get("state") != "failed":
            code = {"TrainingFailed": "cannot_train", "DataError": "data_error"}.get(
                type(e).__name__, "error")
            run.write_status(state="failed", why={"code": code, "error": type(e).__name__},
                             message=str(e)[:500])
        raise


def labeled_images(run: RunDir, cfg: RunConfig, data: Mnist) -> LabeledSet:
    """The run's labeled images: labeled.npz if it has one (written when the run was made
    for given labels, or by its first start), else what its pick chooses, written there."""
    if run.labeled_path.is_file():
        labeled = read_labeled(run.labeled_path, complete=False, n_train=len(data.x_train))
        if len(labeled) != cfg.labels:
            raise TrainingFailed(f"labeled.npz holds {len(labeled)} images and config.json "
                                 f"says {cfg.labels}")
        return labeled
    if cfg.pick not in PICKS:
        raise TrainingFailed(f"labeled.npz is missing: the run's labels were {cfg.pick}")
    labeled = pick_labels(cfg, data)
    atomic_write_bytes(run.labeled_path, labeled.to_bytes())
    return labeled


def prepare_resume(run: RunDir) -> Trainer:
    """A Trainer restored from the run's last checkpoint, with metrics, grids and insight
    snapshots past it dropped."""
    trainer = Trainer(run.load_config(), run)
    trainer.load_checkpoint()
    rows = run.truncate_metrics(trainer.step)
    for step, path in run.sample_files() + run.insight_files():
        if step > trainer.step:
            path.unlink(missing_ok=True)
    # the status must not keep the accuracy of steps that are being trained again
    evaluated = [r["test_acc"] for r in rows if "test_acc" in r]
    run.write_status(step=trainer.step, elapsed_s=trainer.elapsed_before,
                     test_acc=evaluated[-1] if evaluated else None)
    return trainer
