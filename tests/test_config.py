"""Run configs: presets, validation, and config.json files written by older versions."""
import json

import pytest

from sgan_core.config import CLOCK_STEPS, PRESETS, ConfigError, RunConfig, make_config
from sgan_core.reading.predict import SHIPPED_MODEL_DIR

# options of earlier versions that no preset set; their numbers are in benchmarks/RESULTS.md
REMOVED = {"entropy_weight": 0.0, "pseudo_keep": 1.0, "align_pseudo": False, "elastic": 0.0,
           "stretch": 0.0, "shear": 0.0, "thickness": 0.0, "cutout": 0, "jit_compile": False}


def test_config_round_trips_through_json():
    for preset in PRESETS:
        cfg = make_config(preset, labels=50, variant="multi", seed=3)
        assert RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_configs_of_older_runs_load_without_their_removed_options():
    cfg = make_config("best", labels=100, seed=1)
    old = dict(cfg.to_dict(), **REMOVED)
    assert RunConfig.from_dict(old) == cfg
    shipped = json.loads((SHIPPED_MODEL_DIR / "config.json").read_text())
    assert REMOVED.keys() <= shipped.keys()  # the shipped run predates the removal
    loaded = RunConfig.from_dict(shipped)
    assert (loaded.preset, loaded.variant, loaded.labels) == ("best", "stacked", 100)


@pytest.mark.parametrize("overrides, message", [
    (dict(labels=5), "at least one image per digit"),
    (dict(variant="nope"), "unknown variant 'nope'"),
    (dict(generator="big"), "unknown generator 'big'"),
    (dict(steps=0), "steps must be at least 1"),
    (dict(batch_size=1), "batch size must be at least 2"),
    (dict(max_seconds=-1.0), "max seconds must be positive"),
])
def test_bad_settings_are_refused_with_the_reason(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("fast", **overrides)
    with pytest.raises(ConfigError, match="unknown preset"):
        make_config("nope")


def test_training_by_the_clock_is_one_rule():
    """max_seconds without steps: unlimited steps (CLOCK_STEPS); with steps, the first to come."""
    timed = make_config("fast", max_seconds=120.0)
    assert timed.steps == CLOCK_STEPS and timed.max_seconds == 120.0
    both = make_config("fast", max_seconds=120.0, steps=500)
    assert (both.steps, both.max_seconds) == (500, 120.0)
    assert make_config("fast").steps == PRESETS["fast"]["steps"]


def test_configs_of_the_tutorial_preset_under_its_old_names_still_load():
    """Runs written when the tutorials' preset was called "seed" and its network "conv"."""
    old = make_config("tutorial").to_dict()
    old.update(preset="seed", arch="conv", generator="mlp")  # conv always meant both networks
    cfg = RunConfig.from_dict(old)
    assert (cfg.preset, cfg.arch, cfg.generator) == ("tutorial", "tutorial", "tutorial")
    assert RunConfig.from_dict(old) == make_config("tutorial")


def test_every_setting_is_in_exactly_one_group():
    import dataclasses

    from sgan_core.config import GROUPS, RunConfig
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(f.name for f in dataclasses.fields(RunConfig))
    assert len(grouped) == len(set(grouped))


def test_an_unknown_dataset_or_pick_is_refused_by_name():
    with pytest.raises(ConfigError, match="unknown dataset 'cifar'"):
        make_config("fast", dataset="cifar")
    with pytest.raises(ConfigError, match="unknown pick 'magic'; choose one of random"):
        make_config("fast", pick="magic")
