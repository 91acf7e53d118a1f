"""Command line: `python -m sgan_core train|sweep|eval|list`.

Errors the user can fix (bad label budget, missing data, unknown run) print one line and exit 2,
before any run directory is created; a diverged run, or one that cannot resume, exits 3; `eval`
of a model that cannot be loaded exits 1. None of them prints a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from sgan_core.config import (
    DEFAULT_THREADS,
    MAX_SEED,
    PRESETS,
    ConfigError,
    make_config,
    parse_labels,
    parse_setting,
)
from sgan_core.data.mnist import DataError
from sgan_core.data.picks import DEFAULT_PICK, PICKS
from sgan_core.model.variants import VARIANTS
from sgan_core.reading.insight import confusion_matrix, per_digit_accuracy, top_confusions
from sgan_core.runs.rundir import RUN_ID_RE, RunDir, UnreadableRun, create_run, list_runs
from sgan_ui.words import status_text

DEFAULT_RUNS_DIR = os.environ.get("SGAN_RUNS_DIR", "runs")


def _checked(parse):
    """An argparse type from a parser of config.py: its ConfigError becomes argparse's."""
    def arg(value):
        try:
            return parse(value)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return arg


_labels_arg, _setting_arg = _checked(parse_labels), _checked(parse_setting)


def _threads_arg(value):
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"threads must be at least 1, got {value!r}")
    return int(value)


def _variant_arg(value):
    if value not in VARIANTS:
        raise argparse.ArgumentTypeError(f"unknown variant {value!r}; choose from "
                                         f"{', '.join(VARIANTS)}")
    return value


def _seed_arg(value):
    if not value.isdigit() or int(value) > MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed must be a whole number from 0 to {MAX_SEED}, "
                                         f"got {value!r}")
    return int(value)


def _list_arg(item_type):
    def parse(text):
        return [item_type(part.strip()) for part in text.split(",") if part.strip()]
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sgan_core",
                                description="Train and inspect semi-supervised GANs on MNIST.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a run in the foreground (or resume one)")
    t.add_argument("--labels", type=_labels_arg, default=100,
                   help="labeled training images, balanced over the digits "
                        "(10..60000; default 100)")
    t.add_argument("--variant", choices=list(VARIANTS), default="stacked",
                   help="discriminator variant, or 'supervised' for the no-GAN baseline")
    t.add_argument("--preset", choices=list(PRESETS), default="fast",
                   help="network and optimiser preset (default fast)")
    t.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    t.add_argument("--max-seconds", type=float,
                   help="stop after this many seconds of training instead of at --steps")
    t.add_argument("--seed", type=int, default=0, help="seed for labels, init and batches")
    t.add_argument("--batch-size", type=int, help="images of each kind per step")
    t.add_argument("--lr-d", type=float, help="discriminator learning rate")
    t.add_argument("--lr-g", type=float, help="generator learning rate")
    t.add_argument("--threads", type=_threads_arg, default=DEFAULT_THREADS,
                   help=f"TensorFlow intra-op threads (default {DEFAULT_THREADS})")
    t.add_argument("--set", dest="settings", type=_setting_arg, action="append", default=[],
                   metavar="NAME=VALUE", help="any other setting of config.py's RunConfig, "
                   "e.g. --set pseudo_align=true (repeatable)")
    t.add_argument("--nice", type=int, default=0, choices=range(20), metavar="0..19",
                   help="lower the trainer's CPU priority by N")
    t.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR, help="where run directories go")
    t.add_argument("--run-id", help="name of the new run directory (default: generated)")
    t.add_argument("--mnist", help="path of mnist.npz (default: $SGAN_MNIST, data/, Keras cache)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    t.add_argument("--pick", choices=list(PICKS), default=DEFAULT_PICK,
                   help="which training images get labels: random (balanced by digit) or "
                        "typical (chosen from the images alone, no label read); default "
                        f"{DEFAULT_PICK}")
    t.add_argument("--labels-file", metavar="FILE.npz",
                   help="your own labeled images instead: `images` (uint8, N x 28 x 28, white "
                        "digit on black) and `labels` (N digits); the label budget is N")
    t.add_argument("--from", dest="parent", metavar="RUN_DIR",
                   help="start from this run's weights and labels (with --add-labels)")
    t.add_argument("--add-labels", metavar="I=D,I=D,...",
                   help="with --from: label training images I as digits D (see `ask`)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sweep", help="queue a grid of runs (label budgets x variants x seeds) "
                       "for the label-efficiency curve; with --wait, print its table at the end")
    s.add_argument("--labels", type=_list_arg(_labels_arg), required=True,
                   help="label budgets, comma-separated (e.g. 20,50,100,1000)")
    s.add_argument("--variants", type=_list_arg(_variant_arg), default=["stacked", "supervised"],
                   help="variants, comma-separated (default stacked,supervised)")
    s.add_argument("--seeds", type=_list_arg(_seed_arg), default=[0, 1, 2],
                   help="seeds, comma-separated (default 0,1,2)")
    s.add_argument("--preset", choices=list(PRESETS), default="fast")
    length = s.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="training steps of each run")
    length.add_argument("--max-seconds", type=float, help="seconds of training of each run")
    s.add_argument("--threads", type=_threads_arg, default=DEFAULT_THREADS,
                   help="TensorFlow threads per run (runs at once: cores // threads)")
    s.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR)
    s.add_argument("--mnist", help="path of mnist.npz")
    s.add_argument("--ray-address", default=os.environ.get("SGAN_RAY_ADDRESS") or None,
                   help="train on this Ray cluster (default: $SGAN_RAY_ADDRESS; none: here)")
    s.add_argument("--wait", action="store_true",
                   help="show progress until every run has ended, then print the table")

    e = sub.add_parser("eval", help="print the test accuracy of a run's saved classifier, or of "
                       "several runs on the same labels read together (a committee)")
    e.add_argument("run_dirs", nargs="+", metavar="run_dir")
    e.add_argument("--mnist", help="path of mnist.npz")
    e.add_argument("--mistakes", action="store_true",
                   help="also print the confusion matrix, the accuracy per digit and the most "
                        "frequent confusions (of the committee, for several runs)")

    w = sub.add_parser("worker", help="train queued runs, as many at once as the cores hold "
                                      "(started by the dashboard)")
    w.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR)
    w.add_argument("--ray-address", default=os.environ.get("SGAN_RAY_ADDRESS") or None,
                   help="hand runs to this Ray cluster (default: $SGAN_RAY_ADDRESS; none: local)")

    a = sub.add_parser("ask", help="print the training-set indices of the K images whose "
                       "labels would help the run most now, one per line")
    a.add_argument("run_dir")
    a.add_argument("--count", type=int, default=10, help="how many (default 10)")
    a.add_argument("--mnist", help="path of mnist.npz")

    ls = sub.add_parser("list", help="list the runs with state, step and accuracy")
    ls.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR)
    return p


class ProgressBar:
    def __init__(self, stream=sys.stderr):
        self.stream, self.t0, self.start_step = stream, time.perf_counter(), None

    def __call__(self, step, total, test_acc):
        if self.start_step is None:
            self.start_step = step
        rate = (step - self.start_step) / max(1e-9, time.perf_counter() - self.t0)
        eta = (total - step) / rate if rate > 0 else float("nan")
        done = int(30 * step / max(1, total))
        acc = f" test {test_acc:.2%}" if test_acc is not None else ""
        self.stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] {step}/{total} "
                          f"{rate:.1f} steps/s ETA {eta:.0f}s{acc}   ")
        self.stream.flush()


def cmd_train(args) -> int:
    if args.nice:
        os.nice(args.nice)
    if args.resume:
        run = RunDir(args.resume)
        if not run.exists():
            print(f"error: {args.resume}: not a run directory (no config.json)", file=sys.stderr)
            return 2
        try:
            run.load_config()
        except UnreadableRun as e:
            print(f"error: {args.resume}: {e.reason}", file=sys.stderr)
            return 2
    else:  # every setting and the data are checked before a run directory exists
        named = dict(labels=args.labels, variant=args.variant, steps=args.steps,
                     max_seconds=args.max_seconds, seed=args.seed, batch_size=args.batch_size,
                     lr_d=args.lr_d, lr_g=args.lr_g, threads=args.threads,
                     mnist_path=args.mnist)
        if args.run_id is not None and not RUN_ID_RE.fullmatch(args.run_id):
            raise ConfigError(f"run id {args.run_id!r} must be letters, digits, '.', '_' or "
                              "'-' (at most 100, starting with a letter or digit)")
        cfg, data, files = new_run(args, named)
    from sgan_core.training.trainer import TrainingFailed, configure_threads, train
    configure_threads(args.threads)
    if not args.resume:
        run = create_run(cfg, args.runs_dir, args.run_id, files=files)
    print(f"run directory: {run.path}", file=sys.stderr)

    def started(step):
        if args.resume:
            print(f"resuming at step {step}", file=sys.stderr)
    try:
        status = train(run, None if args.resume else data, resume=bool(args.resume),
                       progress=None if args.quiet else ProgressBar(), on_start=started)
    except TrainingFailed:
        print(f"\nerror: {status_text(run.summary())}", file=sys.stderr)
        return 3
    acc = status.get("test_acc")
    acc_text = f"{acc:.2%}" if acc is not None else "not evaluated"
    print(f"\n{status['state']} at step {status['step']} in {status['elapsed_s']:.1f} s: "
          f"final test accuracy {acc_text} ({run.path})")
    return 0


def new_run(args, named: dict):
    """(config, data, files of its directory) of a new run from the command line: a pick, a
    labels file, or a run taught from another; everything checked before anything is made."""
    from sgan_core.data.labeled import read as read_labels
    from sgan_core.data.mnist import load_mnist
    from sgan_core.runs import teach
    if args.parent:
        if args.labels_file:
            raise ConfigError("--from takes its labels from the run and --add-labels, not a file")
        parent = RunDir(args.parent)
        if not parent.exists():
            raise ConfigError(f"{args.parent}: not a run directory (no config.json)")
        data = load_mnist(args.mnist or parent.load_config().mnist_path)
        answers = teach.parse_answers(args.add_labels or "", len(data.x_train))
        labeled = teach.taught_set(parent, answers, data.x_train)
        cfg = teach.child_config(parent, labeled, steps=args.steps, max_seconds=args.max_seconds,
                                 threads=args.threads, mnist_path=args.mnist)
        return cfg, data, teach.run_files(cfg, labeled, parent)
    if args.add_labels:
        raise ConfigError("--add-labels needs --from RUN_DIR (the run that asked for them)")
    cfg = make_config(args.preset, **{**named, "pick": args.pick, **dict(args.settings)})
    data = load_mnist(cfg.mnist_path)
    if not args.labels_file:
        return cfg, data, None
    labeled = read_labels(args.labels_file)
    name = os.path.splitext(os.path.basename(args.labels_file))[0][:60]
    cfg = teach.given_config(cfg, labeled, "file", name)
    return cfg, data, teach.run_files(cfg, labeled)


def cmd_ask(args) -> int:
    from sgan_core.data.labeled import read as read_labels
    from sgan_core.data.mnist import load_mnist
    from sgan_core.reading.ask import ask
    from sgan_core.reading.predict import ModelLoadError
    run = RunDir(args.run_dir)
    if not run.exists() or not run.classifier_path.is_file():
        print(f"error: {args.run_dir}: not a run with a saved classifier yet", file=sys.stderr)
        return 2
    if not 1 <= args.count <= 1000:
        print("error: --count must be from 1 to 1000", file=sys.stderr)
        return 2
    data = load_mnist(args.mnist or run.load_config().mnist_path)
    labeled = (read_labels(run.labeled_path, complete=False, n_train=len(data.x_train)).index
               if run.labeled_path.is_file() else [])
    try:
        indices = ask(run, data.x_train, args.count, labeled)
    except ModelLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print("\n".join(str(i) for i in indices))
    return 0


def cmd_sweep(args) -> int:
    from sgan_core.data.mnist import load_mnist
    from sgan_core.runs import sweep
    from sgan_ui.words import markdown_table, state_counts, sweep_reading  # as the Sweep page
    cfgs = sweep.plan(args.labels, args.variants, args.seeds, args.preset, steps=args.steps,
                      max_seconds=args.max_seconds, threads=args.threads, mnist_path=args.mnist)
    load_mnist(args.mnist)  # a bad data file is refused before anything is queued
    sweep_id, runs = sweep.start(cfgs, args.runs_dir, ray_address=args.ray_address)
    print(sweep_id)
    print(f"queued {len(runs)} runs in {args.runs_dir} (trained as many at once as the cores "
          "hold; SGAN_SLOTS=N sets the number)", file=sys.stderr)
    if not args.wait:
        return 0
    ids, shown = {r.id for r in runs}, ""
    while True:
        summaries = [s for s in list_runs(args.runs_dir) if s.id in ids and s.usable]
        line = f"{sweep_id}: {state_counts(summaries)}"
        if line != shown:  # one line per change, so a log of a long sweep stays short
            print(time.strftime("%H:%M:%S ") + line, file=sys.stderr, flush=True)
            shown = line
        if not any(s.active for s in summaries):
            break
        time.sleep(2.0)
    table = sweep.efficiency_table(summaries)
    print(markdown_table(table))
    line = sweep_reading(sweep.headline(table))
    if line:
        print(line)
    return 0 if all(s.state == "finished" for s in summaries) and len(summaries) == len(runs) \
        else 1


def cmd_eval(args) -> int:
    from sgan_core.reading import committee
    from sgan_core.reading.predict import ModelLoadError
    runs = [RunDir(path) for path in args.run_dirs]
    try:
        result = committee.evaluate(runs, args.mnist)
    except ModelLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for run, acc in zip(runs, result["members"]):
        print(f"{run.path}: test accuracy {acc:.2%} on {result['images']} images")
    if len(runs) > 1:
        print(f"committee of {len(runs)} (mean of their probabilities): test accuracy "
              f"{result['committee']:.2%} on {result['images']} images")
    if args.mistakes:
        print_mistakes(confusion_matrix(result["truth"], result["read"]))
    return 0


def print_mistakes(matrix) -> None:
    """The confusion matrix (rows: true digit, columns: read as), the accuracy per digit and
    the most frequent confusions."""
    print("\nconfusion matrix (rows: true digit, columns: read as)")
    print("true " + "".join(f"{d:>6}" for d in range(10)) + "   accuracy")
    for digit, (row, acc) in enumerate(zip(matrix, per_digit_accuracy(matrix))):
        print(f"{digit:>4} " + "".join(f"{n:>6}" for n in row) + f"   {acc:8.2%}")
    print("most frequent confusions:")
    for true, read, count in top_confusions(matrix, 5) or [(None, None, 0)]:
        print(f"  {true} read as {read}: {count}" if count else "  none")


def cmd_list(args) -> int:
    rows = list_runs(args.runs_dir)
    if not rows:
        print(f"no runs in {args.runs_dir}")
        return 0
    print(f"{'run':50} {'state':11} {'step':>13} {'test acc':>8}")
    for r in rows:
        if not r.usable:
            print(f"{r.id:50} unreadable: {r.problem}")
            continue
        acc = f"{r.test_acc:.2%}" if r.test_acc is not None else "-"
        print(f"{r.id:50} {r.state:11} {r.step:>6}/{r.total_steps or '?':<6} {acc:>8}")
    return 0


def cmd_worker(args) -> int:
    from sgan_core.runs.launcher import LocalExecutor, worker_loop
    if args.ray_address:
        from sgan_core.runs.ray_runner import RayExecutor
        executor = RayExecutor(args.ray_address)
    else:
        executor = LocalExecutor()
    worker_loop(args.runs_dir, executor)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"train": cmd_train, "sweep": cmd_sweep, "eval": cmd_eval, "list": cmd_list,
                "ask": cmd_ask,
                "worker": cmd_worker}[args.command](args)
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
