"""Words for people: the sentences and formatted figures that the pages and the command line
show, from the numbers the engine computes (no Streamlit here, so `python -m sgan_core` can
print the same words)."""
from __future__ import annotations

from collections import Counter

TRAINING_IMAGES = 60000

PRESET_HELP = {
    "fast": "A small convolutional reader that names each unlabeled image it is already sure "
            "of and learns from those names too (as many of each digit, shown rotated, scaled "
            "and shifted), while the artist learns to draw. Two minutes by the clock: as many "
            "steps as this machine trains in that time, which the form estimates under Length "
            "from a training step timed here. Reaches 96-97% from 20, 50 or 100 labels (1,100 "
            "steps, three seeds, at 12-18 steps/s on a 2-core machine, 2026-12-06); its "
            "artist's drawings read as digits 83-94% of the time, every digit among them, each "
            "digit drawn nearly as variedly as real handwriting (0.84-0.88 of it).",
    "best": "The fast recipe trained for an hour by the clock instead of two minutes, at a "
            "constant, halved learning rate, for the highest accuracy: 99.0% from 100 labels "
            "with the Stacked reader (32,600-33,600 steps at 9.1-9.3 steps/s on a 2-core "
            "machine, 2026-11-29, before its self-made labels were balanced over the digits; "
            "98.9% on 2026-12-06 at 8.5 steps/s on one core, the same recipe without the game "
            "99.0%). Its artist does not learn to draw: after an hour about a third of its "
            "samples read as digits (36%, 2026-12-06).",
    "salimans": "A reader of fully connected layers with noise added to each, as in the 2016 "
                "paper this kind of GAN comes from.",
    "tutorial": "The Keras tutorials' convolutional networks (slow on a CPU; for comparison).",
}
# The same presets in the papers' terms, for the help icon only.
PRESET_TERMS = ("In the papers' terms: **fast** and **best** train the generator by feature "
                "matching (Salimans et al. 2016), self-train on confident pseudo-labels with "
                "per-class thresholds, and evaluate a weight-averaged (EMA) discriminator; "
                "**salimans** is that paper's MLP discriminator with weight normalisation and "
                "Gaussian noise.")


# The discriminator variants in plain words for the New run form (sgan_core's own help names
# the papers), and the papers, for its help icon.
VARIANT_CAPTIONS = {
    "stacked": "Scores each of the 10 digits; an image that scores high on any digit counts as "
               "real.",
    "multi": "Eleven classes: the 10 digits plus 'generated'.",
}
VARIANT_PAPERS = ("Where the variants come from: **Stacked** is Salimans et al. 2016 "
                  "(*Improved Techniques for Training GANs*), **Multi** Odena 2016 "
                  "(*Semi-Supervised Learning with Generative Adversarial Networks*); **Shared** "
                  "puts both of their questions on one trunk with two heads.")


def variant_caption(name: str, variant) -> str:
    return VARIANT_CAPTIONS.get(name, variant.help)


def errors_per_100(acc: float) -> str:
    """Test digits misread per 100, always with one decimal: "3.5", "27.0"."""
    return f"{100 * (1 - acc):.1f}"


def runs_and_seeds(stats: dict) -> str:
    """"3 seeds" when every run has its own seed, else "2 runs, 1 seed": runs of one seed share
    their labeled images, so their spread is not a spread over seeds."""
    n, seeds = stats["n"], stats.get("seeds", stats["n"])
    if seeds == n:
        return f"{n} seed{'s' if n != 1 else ''}"
    return f"{n} runs, {seeds} seed{'s' if seeds != 1 else ''}"


def mean_sd(mean: float | None, sd: float | None) -> str:
    """'97.40 ± 0.37%', '97.40%' without a spread, '–' without runs."""
    if mean is None:
        return "–"
    if sd is None:
        return f"{100 * mean:.2f}%"
    return f"{100 * mean:.2f} ± {100 * sd:.2f}%"


def mean_cell(stats: dict | None) -> str:
    """'97.40 ± 0.37% (3 seeds)' from tables.stats; '' for an empty cell."""
    if not stats or stats["mean"] is None:
        return ""
    return f"{mean_sd(stats['mean'], stats['sd'])} ({runs_and_seeds(stats)})"


def game_cell(effect: tuple[str, float] | None) -> str:
    """tables.game_effect as text: "+0.40 points (stacked)"; '' without one."""
    if effect is None:
        return ""
    name, diff = effect
    return f"{100 * diff:+.2f} points ({name})"


def length_text(length: tuple[str, float]) -> str:
    """tables.run_length as text: "120 s" or "1100 steps"."""
    kind, value = length
    return f"{value:g} s" if kind == "seconds" else f"{value:,.0f} steps"


RATE_SOURCES = {
    "measured": "this machine's speed in your earlier runs like it",
    "probed": "a training step timed on this machine; your runs like it correct it",
    "reference": "a 2-core laptop's speed, as this machine is not timed yet; measured here after "
                 "your first run like it",
    "guess": "a rough guess, as no run like it has been timed; measured here after your first",
}


def demo_sentence(result: dict | None) -> str | None:
    """The demo's verdict from demo.result, in mistakes per 100 digits: what the unlabeled
    images bought, then what the real/fake game added to self-training on them."""
    if result is None:
        return None
    labels, seconds, gan, base = (result[k] for k in ("labels", "seconds", "gan", "baseline"))
    steps = result.get("steps")
    length = (f" for {seconds:g} seconds each" if seconds else
              f" for {steps:,} training steps each" if steps else "")
    setting = (f"Taught with the same {labels} labeled digits ({labels / TRAINING_IMAGES:.2%} "
               "of the training set)" + length)
    reading = (f"the semi-supervised GAN misreads {errors_per_100(gan)} of every 100 test "
               f"digits, the supervised baseline {errors_per_100(base)}")
    if gan > base:
        ratio = (1 - base) / max(1 - gan, 1e-9)
        verdict = (f"{ratio:.1f} times fewer mistakes from learning on the unlabeled images"
                   if ratio >= 1.15 else "a small gain from the unlabeled images")
    else:
        verdict = "in this run the unlabeled images did not help"
    sentence = f"{setting}, {reading}: {verdict}."
    own = result.get("selftrain")
    if own is None:
        return sentence
    change = 100 * (gan - own)
    if abs(change) < 0.05:
        game = "the real/fake game changed nothing here"
    elif change > 0:
        game = f"here the real/fake game added {change:.1f} right digits in 100"
    else:
        game = (f"here the game cost {-change:.1f} digits in 100: the gain came from the "
                "labels it gives itself, and the game buys the generator's drawings")
    return (f"{sentence} The same recipe without the real/fake game (self-training on its own "
            f"confident readings) misreads {errors_per_100(own)}: {game}.")


def taught_sentence(result: dict | None) -> str | None:
    """Teach it yourself's verdict: of MNIST's 10,000 test digits, how many each side reads
    after learning from a person's own drawings."""
    if result is None:
        return None
    sides = [("the semi-supervised GAN", result["gan"])]
    if result.get("selftrain") is not None:
        sides.append(("the same recipe without the game", result["selftrain"]))
    sides.append(("the supervised baseline", result["baseline"]))
    reads = ", ".join(f"{name} reads {round(10000 * acc):,}" for name, acc in sides)
    best = max(sides, key=lambda side: side[1])[0]
    return (f"Taught only by your {result['labels']} drawings, {result.get('steps') or 0:,} "
            f"training steps each: of MNIST's 10,000 test digits, written by hundreds of other "
            f"people, {reads}. {best[0].upper()}{best[1:]} reads the most"
            + (": the unlabeled images carried your few examples to everyone's handwriting."
               if best != "the supervised baseline" else "."))


def sweep_reading(headline: dict | None) -> str | None:
    """One line for a stakeholder from sweep.headline: errors per 100 digits of each."""
    if headline is None:
        return None
    return (f"With {headline['labels']} labels the semi-supervised GAN ({headline['variant']}) "
            f"misreads {errors_per_100(headline['gan'])} of every 100 test digits, the "
            f"supervised baseline {errors_per_100(headline['baseline'])}.")


def state_counts(summaries) -> str:
    """How many runs are in each state: "2 finished, 1 running"."""
    counts = Counter(s.state for s in summaries)
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def markdown_table(table: list[dict]) -> str:
    """A sweep's efficiency table (sweep.efficiency_table) as Markdown, for the command line."""
    lines = ["| labels | variant | test accuracy (mean ± sd) | n |", "|---|---|---|---|"]
    for row in table:
        lines.append(f"| {row['labels']} | {row['variant']} | {mean_sd(row['mean'], row['sd'])} "
                     f"| {row['n']}/{row['runs']} |")
    return "\n".join(lines)


def self_label_sentence(labels: int, snap: dict, variant: str, bar: float) -> str:
    """What one insight snapshot says of the labels a run gives itself, for a stakeholder."""
    sample, total = int(snap["self_sample"]), int(snap["train_size"])
    labeled, right = int(snap["self_by_digit"].sum()), int(snap["self_right_by_digit"].sum())
    if not sample:
        return "No unlabeled images were left to measure this on."
    about = round(labeled / sample * total)
    share_right = f"{right / labeled:.1%}" if labeled else "none"
    measured = (f"measured on {sample:,} of them against MNIST's own labels, which training "
                "never sees")
    if snap["self_training"]:
        if not labeled:
            return (f"From {labels:,} labeled images the model labels none of the {total:,} "
                    f"training images itself yet ({measured}).")
        return (f"From {labels:,} labeled images the model now labels about {about:,} of the "
                f"{total:,} training images itself; {share_right} of those labels are right "
                f"({measured}).")
    return (f"This run does not label images for itself ({variant}: no self-training). At the "
            f"same bar (sure above {bar:.0%}) its classifier alone would label about {about:,} "
            f"of the {total:,} training images; {share_right} of those would be right "
            f"({measured}).")


def mistakes_sentence(matrix, confusions: list[tuple[int, int, int]], step: int) -> str:
    total, right = int(matrix.sum()), int(matrix.trace())
    if total == right:
        return f"At step {step} it reads all {total:,} test digits right."
    top = confusions[0]
    return (f"At step {step} it misreads {total - right:,} of the {total:,} test digits; most "
            f"often a {top[0]} read as a {top[1]} ({top[2]} times).")


_WHY = {
    "queued": "queued",
    "queued_to_resume": "queued to resume",
    "dequeued": "removed from the queue",
    "training": "training",
    "finished": "finished",
    "stopped": "stopped at step {step}",
    "signalled": "the training process was asked to end (SIGTERM or Ctrl-C) at step {step}; "
                 "its checkpoint is saved, resume to continue",
    "time_budget": "time budget of {seconds:g} s reached at step {step}",
    "diverged": "training diverged: {losses} {how} at step {step} (a learning rate too high?)",
    "exit_code": "training process exited with code {exit_code}; see {log}",
    "killed": "the training process was killed by signal {signal}; resume to continue",
    "ended_early": "the training process ended early; resume to continue",
    "lost_node": "the training process was lost with the cluster node it ran on ({error}); "
                 "resume to continue",
    "vanished": "the training process ended unexpectedly; resume to continue",
    "waiting_cpus": "waiting for a machine with {threads} CPUs: the largest in the Ray cluster "
                    "has {largest:g}. It starts when one joins; or stop it and choose fewer "
                    "threads.",
    "waiting_gpus": "waiting for a machine with {gpus} GPUs: the Ray cluster's machines have at "
                    "most {most:g}. It starts when one joins.",
    "more_threads_than_cores": "asks for {threads} threads and this machine has {cores} "
                               "cores: it trains alone, slower than asked",
}
# codes of a queued run that say why it cannot start yet
WAITING = ("waiting_cpus", "waiting_gpus", "more_threads_than_cores")


def status_text(summary) -> str:
    """Why a run is in its state, in words: from its `why` code and facts; an error's own text
    (or the words of a run written before codes) as it was written."""
    why = getattr(summary, "why", None) or {}
    code = why.get("code")
    if code == "diverged":
        why = dict(why, how="became NaN or infinite" if why.get("nonfinite")
                   else f"passed {why.get('limit', 1e4):g}")
    if code == "data_error":
        return f"data error: {summary.message}"
    template = _WHY.get(code)
    if template:
        try:
            return template.format(**why)
        except (KeyError, ValueError, TypeError):  # a damaged status.json: say what is known
            return code.replace("_", " ")
    return summary.message or (code or "").replace("_", " ")


PICK_HELP = {
    "random": "A random draw, the same number of each digit (the seed chooses which images).",
    "typical": ("It chooses from the images alone, reading no label: the most typical image of "
                "each of the most distinct groups of look-alike images. MNIST's labels then "
                "label them; on the Teach page you label them yourself."),
}


def labels_source(summary, parent_labels: int | None = None) -> str:
    """Where a run's labeled images came from, in a few words: "random", "picked (typical)",
    "drawn: my digits", "file: theirs", "from RUN + 10 asked"."""
    pick, name = getattr(summary, "pick", None) or "random", getattr(summary, "labels_name", None)
    if pick == "typical":
        return "picked (typical)" + (f" + drawn: {name}" if name else "")
    if pick in ("drawn", "file"):
        return f"{pick}: {name}" if name else pick
    if pick == "asked":
        added = (f" + {summary.labels - parent_labels} asked"
                 if parent_labels is not None and summary.labels else " + asked")
        return f"from {summary.parent}{added}"
    return pick
