"""Committees: several runs on the same labels read together by averaging probabilities."""
import re

import numpy as np
import pytest

from sgan_core.config import ConfigError
from sgan_core.data.mnist import load_mnist, scale_images
from sgan_core.reading import committee
from sgan_core.reading.committee import CommitteeModel
from sgan_core.reading.predict import Prediction, load_classifier, numpy_function
from sgan_core.runs.rundir import RunDir, list_run_dirs

from conftest import cli


class FixedModel:
    """Stands in for a RunModel: always the same probabilities."""

    def __init__(self, probs, real):
        self.probs, self.real = np.asarray(probs, np.float32), real

    def predict_digit(self, digit):
        return Prediction(int(self.probs.argmax()), self.probs, self.real, digit)


def test_average_of_probabilities():
    a = np.array([[0.8, 0.2], [0.1, 0.9]])
    b = np.array([[0.2, 0.8], [0.3, 0.7]])
    np.testing.assert_allclose(committee.average_probabilities([a, b]), [[0.5, 0.5], [0.2, 0.8]])


def test_committee_model_averages_members_and_keeps_their_readings():
    sure_one = np.eye(10)[1] * 0.9 + 0.01
    leaning_seven = np.eye(10)[7] * 0.5 + np.eye(10)[1] * 0.45 + 0.005
    model = CommitteeModel([FixedModel(sure_one, 0.8), FixedModel(leaning_seven, None)])
    digit = np.zeros((28, 28), np.uint8)
    pred = model.predict_digit(digit)
    np.testing.assert_allclose(pred.probabilities, (sure_one + leaning_seven) / 2, rtol=1e-6)
    assert pred.digit == 1 and pred.real_probability == pytest.approx(0.8)
    assert [p.digit for p in model.member_predictions] == [1, 7]
    assert pred.model_input is digit


def test_members_must_share_their_labeled_images(tmp_path):
    runs = []
    for seed in (0, 1):
        run = RunDir(tmp_path / f"run{seed}")
        run.path.mkdir()
        run.write_config({"labels": 100, "seed": seed, "variant": "stacked"})
        run.classifier_path.write_bytes(b"not read")
        runs.append(run)
    with pytest.raises(ConfigError, match="same labeled images.*seed 0.*seed 1"):
        committee.member_configs(runs)
    runs[1].write_config({"labels": 100, "seed": 0, "variant": "shared"})
    assert [c.variant for c in committee.member_configs(runs)] == ["stacked", "shared"]
    runs[1].classifier_path.unlink()
    with pytest.raises(ConfigError, match="no saved classifier"):
        committee.member_configs(runs)
    with pytest.raises(ConfigError, match="at least one run"):
        committee.member_configs([])


@pytest.mark.slow
def test_cli_eval_reads_runs_together(finished_runs_dir, small_mnist):
    runs = list_run_dirs(finished_runs_dir)
    r = cli("eval", *[run.path for run in runs], "--mnist", small_mnist)
    assert r.returncode == 0, r.stderr[-2000:]
    reported = [float(x) / 100 for x in re.findall(r"test accuracy ([\d.]+)%", r.stdout)]
    assert len(reported) == 3 and "committee of 2" in r.stdout.splitlines()[-1]
    data = load_mnist(small_mnist)
    x = scale_images(data.x_test, (-1.0, 1.0))
    probs = [numpy_function(load_classifier(run.classifier_path))(x) for run in runs]
    expected = [(p.argmax(-1) == data.y_test).mean() for p in probs + [sum(probs) / 2]]
    np.testing.assert_allclose(reported, expected, atol=5e-5)


def test_committee_of_saved_models_reads_a_drawing():
    """Real RunModels: the shipped model twice reads a drawing exactly as it does alone."""
    from PIL import Image

    from sgan_core.reading.predict import SHIPPED_MODEL_DIR, RunModel
    alone = RunModel(RunDir(SHIPPED_MODEL_DIR))
    pair = CommitteeModel([alone, RunModel(RunDir(SHIPPED_MODEL_DIR))])
    seven = load_mnist().x_test[0]
    big = np.asarray(Image.fromarray(seven).resize((280, 280), Image.Resampling.BILINEAR))
    expected, got = alone.predict_drawing(big), pair.predict_drawing(big)
    np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=1e-5)
    assert got.digit == expected.digit == 7
    assert got.real_probability == pytest.approx(expected.real_probability, rel=1e-5)
    np.testing.assert_array_equal(got.model_input, expected.model_input)
