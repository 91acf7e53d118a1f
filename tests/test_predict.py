"""The shipped demo model and the Draw page's prediction path."""
import numpy as np
import pytest
from PIL import Image

from sgan_core.data.mnist import load_mnist
from sgan_core.reading.predict import SHIPPED_MODEL_DIR, RunModel
from sgan_core.runs.rundir import RunDir


@pytest.fixture(scope="module")
def shipped():
    return RunModel(RunDir(SHIPPED_MODEL_DIR))


def test_shipped_model_is_a_trained_gan_classifier(shipped):
    assert shipped.cfg.is_gan and shipped.discriminator is not None


def test_mnist_digits_through_the_drawing_pipeline_stay_classifiable(shipped):
    """MNIST test digits enlarged to canvas size and prepared like drawings are read right."""
    d = load_mnist()
    correct = 0
    for img, label in zip(d.x_test[:200], d.y_test[:200]):
        big = np.asarray(Image.fromarray(img).resize((280, 280), Image.Resampling.BILINEAR))
        pred = shipped.predict_drawing(big)
        assert pred is not None and pred.model_input.shape == (28, 28)
        np.testing.assert_allclose(pred.probabilities.sum(), 1, rtol=1e-5)
        assert 0.0 <= pred.real_probability <= 1.0
        correct += pred.digit == label
    assert correct / 200 >= 0.9


def test_blank_canvas_gives_no_prediction(shipped):
    assert shipped.predict_drawing(np.zeros((280, 280, 4), np.uint8)) is None
