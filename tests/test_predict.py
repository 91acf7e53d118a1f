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


def test_a_process_without_keras_reads_models_apart_and_never_imports_it():
    """The server's case: models loaded in the reader process, run by NumPy here; the same
    readings as in a process that runs Keras itself."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from sgan_core.reading.predict import SHIPPED_MODEL_DIR, RunModel\n"
            "from sgan_core.runs.rundir import RunDir\n"
            "m = RunModel(RunDir(SHIPPED_MODEL_DIR))\n"
            "x = np.zeros((28, 28), np.uint8); x[4:24, 12:16] = 255\n"
            "p = m.predict_digit(x)\n"
            "print('keras' in sys.modules, 'tensorflow' in sys.modules, p.digit,"
            " ' '.join(f'{v:.6f}' for v in p.probabilities), f'{p.real_probability:.6f}')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    keras_in, tf_in, digit, *rest = out.stdout.split()
    assert (keras_in, tf_in) == ("False", "False")
    import keras  # noqa: F401  (this process runs Keras: it loads in-process)
    here = RunModel(RunDir(SHIPPED_MODEL_DIR))
    x = np.zeros((28, 28), np.uint8)
    x[4:24, 12:16] = 255
    p = here.predict_digit(x)
    assert int(digit) == p.digit
    np.testing.assert_allclose([float(v) for v in rest[:10]], p.probabilities, atol=1e-5)
    np.testing.assert_allclose(float(rest[10]), p.real_probability, atol=1e-5)


def test_a_model_read_too_long_is_given_up_and_its_reader_ended(monkeypatch):
    from sgan_core.reading import predict

    monkeypatch.setattr(predict, "READ_TIMEOUT_S", 0.01)  # the reader's start alone takes longer
    with pytest.raises(predict.ModelLoadError, match="was not read within .* s and was given up"):
        predict._apart(str(SHIPPED_MODEL_DIR / "classifier.keras"))
    assert predict._reader is None  # the next load starts a fresh reader
    monkeypatch.setattr(predict, "READ_TIMEOUT_S", 300.0)
    spec = predict._apart(str(SHIPPED_MODEL_DIR / "classifier.keras"))
    assert spec.output_shape == (None, 10)


def test_a_model_the_reader_cannot_describe_is_named_in_one_sentence(monkeypatch):
    from sgan_core.reading import predict

    def unbuilt(model):
        raise AttributeError("no inputs")
    monkeypatch.setattr(predict, "describe", unbuilt)
    with pytest.raises(predict.ModelLoadError, match="classifier.keras is not a model SGAN Lab "
                                                     r"saved \(AttributeError\)"):
        predict._spec_of_file(str(SHIPPED_MODEL_DIR / "classifier.keras"))
