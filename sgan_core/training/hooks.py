"""The training loop's hooks: each writes one kind of file of the run directory (see rundir.py).

A hook is called after every step, with last=True on the final one, and once when training
ends, however it ends; the trainer is passed in and read, never changed.
"""
from __future__ import annotations

import time

from sgan_core.files import atomic_write_bytes
from sgan_core.training.grids import grid_image, png_bytes

HEARTBEAT_EVERY_S = 1.0


class Hook:
    """Called after every training step (last=True on the final one) and once at the end."""

    def __init__(self, trainer):
        self.trainer = trainer

    def after_step(self, metrics: dict, last: bool) -> None:
        pass

    def at_end(self) -> None:
        pass


class MetricsLog(Hook):
    """metrics.jsonl (and TensorBoard's scalars): the mean of each metric since the last row,
    every log_every steps, with the test accuracy every eval_every steps and at the last step
    (with the self-label shares and an insight snapshot, insight.py), and the accuracy on a
    fixed test subset (cheap enough for the live chart) every subset_every steps."""

    def __init__(self, trainer):
        super().__init__(trainer)
        self.sums, self.counts, self.n = {}, {}, 0
        self.test_acc = trainer.run.read_status().get("test_acc")

    def after_step(self, metrics: dict, last: bool) -> None:
        cfg, step = self.trainer.cfg, self.trainer.step
        for k, val in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + val
            self.counts[k] = self.counts.get(k, 0) + 1
        self.n += 1
        at_eval = step % cfg.eval_every == 0 or last
        at_subset = at_eval or (cfg.subset_every > 0 and step % cfg.subset_every == 0)
        if step % cfg.log_every == 0 or at_subset:
            row = self._row()
            if at_subset:
                row["test_acc_subset"] = self.trainer.evaluate(subset=True)
            if at_eval:  # a stop request may cut an evaluation short, except the final one
                acc = self.trainer.evaluate(lambda: not last and self.trainer.should_stop())
                if acc is not None:
                    row["test_acc"] = self.test_acc = acc
                    row.update(self.trainer.insight.record(*self.trainer.test_reading))
            self._append(row)

    def at_end(self) -> None:
        if self.n:  # stopped between two rows: keep the means of the steps since the last one
            self._append(self._row())

    def _append(self, row: dict) -> None:
        self.trainer.run.append_metrics([row])
        self.trainer.events.scalars(row)

    def _row(self) -> dict:
        row = {"step": self.trainer.step, "elapsed_s": round(self.trainer.elapsed(), 3)}
        # each metric over the steps that had it (a step between games has no game losses)
        row.update({k: s / self.counts[k] for k, s in self.sums.items()})
        self.sums, self.counts, self.n = {}, {}, 0
        return row


class SampleGrids(Hook):
    """samples/step_XXXXXX.png (and TensorBoard's images): the generator on fixed latent
    vectors, at step 0, every sample_every steps and at the final step."""

    def __init__(self, trainer):
        super().__init__(trainer)
        self.saved_at = None
        if trainer.step == 0:
            self._save()

    def after_step(self, metrics: dict, last: bool) -> None:
        if not last and self.trainer.step % self.trainer.cfg.sample_every == 0:
            self._save()

    def at_end(self) -> None:
        self._save()

    def _save(self) -> None:
        if self.trainer.sgan.G is None or self.saved_at == self.trainer.step:
            return
        self.saved_at = self.trainer.step
        t = self.trainer
        img = grid_image(t.fixed_samples(), 10, t.cfg.input_range)
        atomic_write_bytes(t.run.samples_dir / f"step_{t.step:06d}.png", png_bytes(img))
        t.events.image("generated digits", t.step, img)


class Checkpoints(Hook):
    """ckpt/state.npz and the exported models every checkpoint_every steps and at the end; the
    state alone also every checkpoint_seconds of training, so a killed trainer loses about that
    much work at most (plus the step or evaluation under way when the time came)."""

    def __init__(self, trainer):
        super().__init__(trainer)
        self.saved_at = time.perf_counter()

    def after_step(self, metrics: dict, last: bool) -> None:
        if last:
            return
        if self.trainer.step % self.trainer.cfg.checkpoint_every == 0:
            self.trainer.save_checkpoint()
        elif time.perf_counter() - self.saved_at >= self.trainer.cfg.checkpoint_seconds:
            self.trainer.save_checkpoint(export=False)
        else:
            return
        self.saved_at = time.perf_counter()

    def at_end(self) -> None:
        self.trainer.save_checkpoint()


class Heartbeat(Hook):
    """status.json's step, time and accuracy about once a second (and the CLI's progress bar)."""

    def __init__(self, trainer, metrics_log: MetricsLog, progress=None):
        super().__init__(trainer)
        self.log, self.progress, self.last_beat = metrics_log, progress, 0.0

    def after_step(self, metrics: dict, last: bool) -> None:
        now = time.perf_counter()
        if last or now - self.last_beat < HEARTBEAT_EVERY_S:
            return
        self.last_beat = now
        t = self.trainer
        t.run.write_status(step=t.step, elapsed_s=t.elapsed(), test_acc=self.log.test_acc)
        if self.progress:
            self.progress(t.step, t.cfg.steps, self.log.test_acc)
