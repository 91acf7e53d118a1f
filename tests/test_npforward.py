"""The NumPy inference pass gives what Keras gives, for every architecture and variant."""
import numpy as np
import pytest

from sgan_core.config import VARIANTS, make_config
from sgan_core.model.networks import (
    build_classifier,
    build_discriminator,
    build_generator,
    build_logits_model,
)
from sgan_core.reading.npforward import UnsupportedModel, compile_model, conv2d, conv2d_transpose
from sgan_core.reading.predict import (
    SHIPPED_MODEL_DIR,
    ModelLoadError,
    load_classifier,
    numpy_function,
)
from sgan_core.runs.rundir import RunDir


def _images(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


def _randomised(model, seed):
    """Random weights of a realistic size, so that errors are not hidden by small values."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.weights:
        value = rng.normal(0, 0.2, w.shape).astype(np.float32)
        # a variance must be positive, else both sides give NaN and the comparison proves nothing
        weights.append(np.abs(value) + 0.5 if "variance" in w.path else value)
    model.set_weights(weights)
    return model


@pytest.mark.parametrize("arch", ["mlp", "tutorial", "cnn"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_keras_for_every_model_we_build(arch, variant):
    cfg = make_config("fast", arch=arch, variant=variant)
    disc = _randomised(build_discriminator(cfg, train=False), seed=1)
    x = _images()
    for model in (build_classifier(disc, variant), build_logits_model(disc)):
        expected = model.predict_on_batch(x)
        got = compile_model(model)(x)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("generator", ["mlp", "dcgan", "tutorial"])
@pytest.mark.parametrize("class_weight", [0.0, 1.0])
def test_matches_keras_for_every_generator(generator, class_weight):
    cfg = make_config("fast", generator=generator, class_weight=class_weight)
    model = _randomised(build_generator(cfg), seed=2)
    z = np.random.default_rng(4).standard_normal((3, model.input_shape[-1])).astype(np.float32)
    # pixels in [-1, 1] after sums over 128 channels of float32: 1e-3 is a few float32 ulps
    expected = model.predict_on_batch(z)
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(compile_model(model)(z)[0], expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("size,kernel,stride", [(7, 4, 2), (14, 4, 2), (5, 3, 2), (4, 2, 3),
                                                (6, 3, 1)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_transpose_matches_keras(size, kernel, stride, padding):
    import keras

    layer = keras.layers.Conv2DTranspose(5, kernel, strides=stride, padding=padding)
    x = np.random.default_rng(size).standard_normal((2, size, size, 3)).astype(np.float32)
    expected = np.asarray(layer(x))
    k, b = layer.get_weights()
    np.testing.assert_allclose(conv2d_transpose(x, k, b, stride, padding), expected,
                               rtol=1e-4, atol=1e-4)


def test_matches_keras_for_the_shipped_saved_models():
    run = RunDir(SHIPPED_MODEL_DIR)
    x = _images(seed=3)
    import keras
    for path in (run.classifier_path, run.discriminator_path):
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
        np.testing.assert_allclose(numpy_function(load_classifier(path, None))(x),
                                   model.predict_on_batch(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("size,kernel,stride", [(28, 5, 2), (7, 3, 2), (14, 3, 1), (9, 4, 3)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_matches_tensorflow(size, kernel, stride, padding):
    import tensorflow as tf

    rng = np.random.default_rng(size + kernel)
    x = rng.standard_normal((2, size, size, 3)).astype(np.float32)
    k = rng.standard_normal((kernel, kernel, 3, 5)).astype(np.float32)
    expected = tf.nn.conv2d(x, k, stride, padding.upper()).numpy()
    np.testing.assert_allclose(conv2d(x, k, None, stride, padding), expected,
                               rtol=1e-4, atol=1e-4)


def test_unknown_layer_is_refused_with_one_sentence(tmp_path):
    import keras

    inp = keras.Input((28, 28, 1))
    h = keras.layers.LayerNormalization()(keras.layers.Flatten()(inp))
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(h))
    with pytest.raises(UnsupportedModel, match="LayerNormalization"):
        compile_model(model)
    model.save(tmp_path / "classifier.keras")
    with pytest.raises(ModelLoadError, match="classifier.keras holds what SGAN Lab's reader "
                                             "cannot run .*LayerNormalization"):
        load_classifier(tmp_path / "classifier.keras")
