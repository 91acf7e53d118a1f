"""Classify images with a run's saved models (what the Draw page, committees and `eval` use).

Models are loaded only from a run directory's fixed file names (or the shipped demo model), with
Keras safe mode on, and every model file is untrusted input: one that fails to load, or is not
a 28x28 -> 10 classifier, raises ModelLoadError with one sentence for the page or the CLI.

A loaded model is a ModelSpec (npforward: plain data) run by NumPy. A process that has not
imported Keras (the Streamlit server: see npforward for why it must not) loads model files in a
reader process of its own, started once and kept: the server's interpreter stays free for the
room, and a file that crashes Keras takes the reader down, not the page.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sgan_core import PROJECT_ROOT
from sgan_core.data.canvas import to_mnist
from sgan_core.data.mnist import scale_images
from sgan_core.reading.npforward import ModelSpec, UnsupportedModel, describe, forward
from sgan_core.runs.rundir import RunDir, UnreadableRun

SHIPPED_MODEL_DIR = PROJECT_ROOT / "data" / "demo_run"


class ModelLoadError(ValueError):
    """A model file that cannot be used; the message is one sentence naming the file."""


def _name(path) -> str:
    """A model file as messages name it: its run's folder and its own name."""
    return f"{Path(path).parent.name}/{Path(path).name}"


def load_model_file(path) -> ModelSpec:
    """A Keras model file of a run, loaded in safe mode, as a ModelSpec; ModelLoadError
    otherwise. Loaded here when this process already runs Keras, else in the reader process."""
    path = Path(path)
    name = _name(path)
    if not path.is_file():
        raise ModelLoadError(f"{name} is missing.")
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(f"{name} is damaged: it is not a Keras model file.")
    if "keras" in sys.modules:
        return _spec_of_file(str(path))
    return _apart(str(path))


def _spec_of_file(path: str) -> ModelSpec:
    import keras
    name = _name(path)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # Keras raises many types for a bad file; all mean "unusable"
        if "lambda" in str(e).lower():
            raise ModelLoadError(f"{name} holds a Lambda layer (arbitrary Python code), which "
                                 "SGAN Lab never runs; this model cannot be used.") from None
        raise ModelLoadError(f"{name} is damaged or was not saved by SGAN Lab "
                             f"({type(e).__name__}).") from None
    try:
        return describe(model)
    except UnsupportedModel as e:
        raise ModelLoadError(f"{name} holds what SGAN Lab's reader cannot run ({e}).") from None
    except Exception as e:  # a model of no single input, an unbuilt one: not ours
        raise ModelLoadError(f"{name} is not a model SGAN Lab saved "
                             f"({type(e).__name__}).") from None


READ_TIMEOUT_S = 120.0  # a model file read longer than this is given up (the reader killed)
_reader: ProcessPoolExecutor | None = None
_reader_lock = threading.Lock()


def _apart(path: str) -> ModelSpec:
    """_spec_of_file in the reader process (started on first use, with spawn: TensorFlow is
    not fork-safe); one new reader if the last one died."""
    global _reader
    for _ in range(2):
        with _reader_lock:
            if _reader is None:
                _reader = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_leave_with_parent, initargs=(os.getpid(),))
            reader = _reader
        try:
            return reader.submit(_spec_of_file, path).result(timeout=READ_TIMEOUT_S)
        except BrokenProcessPool:
            _drop(reader)
        except TimeoutError:  # a file that keeps the reader busy must not hold every load
            _drop(reader, kill=True)
            raise ModelLoadError(
                f"{_name(path)} was not read within {READ_TIMEOUT_S:.0f} s and was given up: "
                "the file may be damaged, or this machine too busy just now.") from None
    raise ModelLoadError(f"{_name(path)} could not be read: the model reader stopped on it.")


def _drop(reader: ProcessPoolExecutor, kill: bool = False) -> None:
    """Forget a reader (the next load starts a new one); kill=True ends its process too."""
    global _reader
    with _reader_lock:
        if _reader is reader:
            _reader = None
    if kill:
        for process in list(getattr(reader, "_processes", {}).values()):  # no public handle
            process.kill()
        reader.shutdown(wait=False, cancel_futures=True)


def _leave_with_parent(parent: int) -> None:
    """In the reader: exit when the server that started it is gone (a killed server would
    otherwise leave a reader holding TensorFlow behind)."""
    def watch():
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def model_shapes(model: ModelSpec) -> tuple:
    """(input shape, output shape), or (None, None) for a model that has no single one."""
    return model.input_shape, model.output_shape


def load_classifier(path, outputs: int | None = 10) -> ModelSpec:
    """A Keras model file taking (N, 28, 28, 1) images (and, unless outputs is None, giving
    `outputs` values per image), loaded in safe mode; ModelLoadError otherwise."""
    model = load_model_file(path)
    in_shape, out_shape = model_shapes(model)
    if in_shape != (None, 28, 28, 1) or (outputs is not None and out_shape != (None, outputs)):
        path = Path(path)
        raise ModelLoadError(f"{path.parent.name}/{path.name} is not an MNIST classifier "
                             f"(input {in_shape}, output {out_shape}).")
    return model


def numpy_function(model: ModelSpec):
    """x -> the model's (first) output as an array, computed by NumPy."""
    run = forward(model)
    return lambda x: run(x)[0]


def classify_images(run: RunDir, images: np.ndarray) -> np.ndarray:
    """The run's saved classifier's probabilities for uint8 MNIST images (N, 28, 28), (N, 10)."""
    cfg = run.load_config()
    classify = numpy_function(load_classifier(run.classifier_path))
    return np.concatenate([classify(scale_images(images[i:i + 1000], cfg.input_range))
                           for i in range(0, len(images), 1000)] or [np.zeros((0, 10))])


@dataclass
class Prediction:
    digit: int
    probabilities: np.ndarray      # (10,)
    real_probability: float | None  # discriminator's "looks like a real digit", GAN variants only
    model_input: np.ndarray        # uint8 (28, 28): what the model saw


class DrawingReader:
    """predict_drawing for anything with predict_digit: a canvas image, prepared like MNIST."""

    def predict_drawing(self, image: np.ndarray) -> Prediction | None:
        digit = to_mnist(image)
        return None if digit is None else self.predict_digit(digit)


class RunModel(DrawingReader):
    """A run's classifier (and discriminator, when there is one), loaded from its directory."""

    def __init__(self, run: RunDir):
        self.run = run
        try:
            self.cfg = run.load_config()
        except UnreadableRun as e:
            raise ModelLoadError(f"{run.id}: {e.reason}.") from None
        self.classifier = load_classifier(run.classifier_path)
        self.discriminator = None
        if self.cfg.is_gan and run.discriminator_path.is_file():
            self.discriminator = load_classifier(run.discriminator_path,
                                                 self.cfg.variant_spec.raw_width)
        self.version = model_version(run)
        self._forward = _one_image_function(self.classifier, self.discriminator)
        self.predict_digit(np.zeros((28, 28), np.uint8))  # trace now, not on the first stroke

    def predict_digit(self, digit_uint8: np.ndarray) -> Prediction:
        outputs = self._forward(scale_images(digit_uint8[None], self.cfg.input_range))
        probs = outputs[0][0]
        real = None
        if self.discriminator is not None:
            _, real_logit = self.cfg.variant_spec.split_logits(outputs[1])
            real = float(1.0 / (1.0 + np.exp(-np.clip(real_logit[0], -60, 60))))
        return Prediction(int(probs.argmax()), probs, real, digit_uint8)


def _one_image_function(classifier, discriminator):
    """x (1, 28, 28, 1) -> [probabilities, raw logits if there is a discriminator], as arrays,
    in NumPy (a traced TensorFlow call cost 30-60 ms per stroke in the server)."""
    forwards = [numpy_function(m) for m in (classifier, discriminator) if m is not None]
    return lambda x: [f(x) for f in forwards]


def model_version(run: RunDir) -> float:
    """Changes whenever a (still training) run rewrites its classifier: a cache key."""
    try:
        return os.stat(run.classifier_path).st_mtime
    except OSError:
        return 0.0
