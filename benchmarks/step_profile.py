"""Where a training step's time goes, per preset, at a given number of threads.

    python -m benchmarks.step_profile [--presets fast,best] [--threads 2] [--steps 60]
                                      [--labels 100] [--reference]

For each preset (stacked, seed 0, the full MNIST), in this one process, each part timed alone
over --steps repetitions after a warm-up (median ms):
  - batch: assembling one step's batch in NumPy (Batches.next: labeled and unlabeled images,
    their augmented copies, the generator's noise);
  - step: the fused train_step on ready batches (game on), and the same without the game
    (no fakes, no generator update, as `selftrain` takes);
  - parts of the step, each its own tf.function: the generator's forward pass; the
    discriminator's forward and backward pass over the step's labeled, unlabeled and generated
    images; the teacher's pass (the weight average on the clean unlabeled images);
  - the loop as the trainer runs it (batch, then step, one after the other), in steps/s;
  - evaluation: reading the 10,000 test images, and that cost spread over the preset's
    eval_every steps.
With --reference, the tutorials' loop (../shared/reference/seed_reference.py) runs after, in a
child process at the same threads, and our `tutorial` preset (their network and optimiser,
our fused step) is timed here: the ratio of the two step rates.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sgan_core import PROJECT_ROOT  # noqa: E402

REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "seed_reference.py"


def timed(fn, n: int, warmup: int = 3) -> float:
    """Median milliseconds of fn() over n calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def profile(preset: str, labels: int, steps: int, data) -> dict:
    import tensorflow as tf

    from sgan_core.config import make_config
    from sgan_core.data.batches import Batches
    from sgan_core.data.mnist import scale_images
    from sgan_core.model.networks import generator_input
    from sgan_core.model.sgan import SGAN

    cfg = make_config(preset, labels=labels, seed=0)
    batches = Batches(cfg, data)
    sgan = SGAN(cfg)
    ready = [batches.next() for _ in range(8)]
    out = {"preset": preset, "batch_ms": timed(batches.next, steps)}

    i = iter(range(10 ** 9))

    def step(game=True):
        b = ready[next(i) % len(ready)]
        return sgan.train_step(*b, game=game)["loss_sup"].numpy()

    out["step_ms"] = timed(step, steps)
    out["step_no_game_ms"] = timed(lambda: step(False), steps)

    b = ready[0]
    z = tf.constant(generator_input(cfg, b.z))  # the digits train_step tells the generator
    if sgan.G is not None:
        g_fwd = tf.function(lambda: sgan.G(z, training=True))
        out["g_forward_ms"] = timed(lambda: g_fwd().numpy(), steps)
        x_all = tf.concat([b.x_lab, b.x_unl, g_fwd()], 0)
    else:
        x_all = tf.concat([b.x_lab, b.x_unl], 0)

    @tf.function
    def d_fwd_bwd():
        with tf.GradientTape() as tape:
            _, raw = sgan.D(x_all, training=True)
            loss = tf.reduce_mean(raw)
        return tape.gradient(loss, sgan.D.trainable_variables)[0]

    out["d_forward_backward_ms"] = timed(lambda: d_fwd_bwd().numpy(), steps)
    teacher = tf.function(lambda: sgan.D_eval(b.x_unl_clean, training=False)[1])
    out["teacher_ms"] = timed(lambda: teacher().numpy(), steps)

    def loop_step():
        sgan.train_step(*batches.next(), game=True)["loss_sup"].numpy()

    out["loop_ms"] = timed(loop_step, steps)
    x_test = scale_images(data.x_test, cfg.input_range)
    out["eval_ms"] = timed(lambda: sgan.read(x_test), 3, warmup=1)
    out["eval_every"] = cfg.eval_every
    return out


def tutorial_rate(steps: int, data) -> float:
    from sgan_core.config import make_config
    from sgan_core.data.batches import Batches
    from sgan_core.model.sgan import SGAN

    cfg = make_config("tutorial", labels=100, seed=0)
    batches, sgan = Batches(cfg, data), SGAN(cfg)
    ms = timed(lambda: sgan.train_step(*batches.next())["loss_sup"].numpy(), steps)
    return 1000.0 / ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="fast,best")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--labels", type=int, default=100)
    ap.add_argument("--reference", action="store_true")
    args = ap.parse_args()

    from sgan_core.data.mnist import load_mnist
    from sgan_core.training.trainer import configure_threads
    configure_threads(args.threads)
    data = load_mnist()
    print(f"threads {args.threads}, {args.labels} labels, median of {args.steps} (ms)")
    print("| preset | batch | step | step, no game | G forward | D fwd+bwd | teacher | "
          "loop (steps/s) | batch share | eval (per step) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in args.presets.split(","):
        r = profile(preset, args.labels, args.steps, data)
        print(f"| {preset} | {r['batch_ms']:.1f} | {r['step_ms']:.1f} | "
              f"{r['step_no_game_ms']:.1f} | {r.get('g_forward_ms', 0):.1f} | "
              f"{r['d_forward_backward_ms']:.1f} | {r['teacher_ms']:.1f} | "
              f"{r['loop_ms']:.1f} ({1000 / r['loop_ms']:.2f}) | "
              f"{r['batch_ms'] / r['loop_ms']:.1%} | {r['eval_ms']:.0f} "
              f"({r['eval_ms'] / r['eval_every']:.1f}) |", flush=True)
    if args.reference:
        ours = tutorial_rate(max(20, args.steps // 2), data)
        env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(args.threads),
                   TF_NUM_INTEROP_THREADS="1")
        res = subprocess.run([sys.executable, str(REFERENCE), "--steps", "40"], env=env,
                             capture_output=True, text=True)
        m = re.search(r"reference: ([\d.]+) steps/s", res.stdout + res.stderr)
        if m:
            ref = float(m.group(1))
            print(f"tutorial preset: ours {ours:.2f} steps/s, the tutorials' loop {ref:.2f}: "
                  f"{ours / ref:.2f}x")
        else:
            print(f"reference loop failed: {(res.stdout + res.stderr)[-500:]}")


if __name__ == "__main__":
    main()
