"""Generator and discriminator networks for each preset and discriminator variant.

Every discriminator is a functional Keras model `x -> [features, raw_logits]`, with raw logits
as `variants.py` describes them. Only built-in layers are used in what is saved, so every model
loads with `keras.saving.load_model` in safe mode.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from sgan_core.model.variants import N_CLASSES


class WNDense(layers.Layer):
    """Dense layer with weight normalisation (Salimans & Kingma 2016): W = g * v / ||v||.

    Used only while training; exported models carry the equivalent plain Dense weights.
    """

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, keras.activations.get(activation)

    def build(self, input_shape):
        self.v = self.add_weight(shape=(input_shape[-1], self.units), name="v",
                                 initializer=keras.initializers.RandomNormal(stddev=0.05))
        self.g = self.add_weight(shape=(self.units,), name="g", initializer="ones")
        self.b = self.add_weight(shape=(self.units,), name="b", initializer="zeros")

    def effective_kernel(self):
        return self.v * (self.g / ops.sqrt(ops.sum(ops.square(self.v), axis=0) + 1e-12))

    def call(self, x):
        return self.activation(ops.matmul(x, self.effective_kernel()) + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


def _dense(units, activation, name, train):
    return (WNDense if train else layers.Dense)(units, activation=activation, name=name)


def _mlp_trunk(x, cfg, train):
    h = layers.Flatten()(x)
    if cfg.input_noise and train:
        h = layers.GaussianNoise(cfg.input_noise)(h)
    for i, units in enumerate((1000, 500, 250, 250, 250)):
        h = _dense(units, "relu", f"d_dense{i}", train)(h)
        if cfg.hidden_noise and train:
            h = layers.GaussianNoise(cfg.hidden_noise)(h)
    return h


def _tutorial_trunk(x, cfg, train):
    """The Keras tutorials' discriminator trunk (arch "tutorial"): three 128-channel strided
    convolutions, about 15 times the small CNN's work per image."""
    h = x
    for i in range(3):
        h = layers.Conv2D(128, 3, strides=2, padding="same", name=f"d_conv{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    return layers.Dropout(0.4)(h)


def _small_cnn_trunk(x, cfg, train):
    """Our narrow strided CNN (arch "cnn", channels cfg.cnn_filters): about the MLP's cost per
    image, translation-aware."""
    h = x
    if cfg.input_noise and train:
        h = layers.GaussianNoise(cfg.input_noise)(h)
    for i, (filters, size) in enumerate(zip(cfg.cnn_filters, (5, 3, 3))):
        h = layers.Conv2D(filters, size, strides=2, padding="same", name=f"d_conv{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    return layers.Dropout(0.3)(h)


def build_discriminator(cfg, train: bool = True) -> keras.Model:
    """train=True: the network being trained (weight norm, noise); False: its plain twin."""
    x = keras.Input((28, 28, 1), name="image")
    mlp = cfg.arch == "mlp"
    trunk = {"mlp": _mlp_trunk, "tutorial": _tutorial_trunk, "cnn": _small_cnn_trunk}[cfg.arch]
    features = trunk(x, cfg, train)
    head = (lambda units, name: _dense(units, None, name, train)) if mlp else \
        (lambda units, name: layers.Dense(units, name=name))
    if cfg.variant_spec.extra_logit == "real":  # a second head on the same trunk
        raw = layers.Concatenate(name="raw_logits")(
            [head(N_CLASSES, "class_head")(features), head(1, "real_head")(features)])
    else:
        raw = head(cfg.variant_spec.raw_width, "raw_logits")(features)
    return keras.Model(x, [features, raw], name=f"discriminator_{cfg.variant}")


def copy_to_plain(trained: keras.Model, plain: keras.Model) -> keras.Model:
    """Copy weights layer by layer (by name), folding weight norm into plain kernels."""
    for layer in plain.layers:
        if not layer.weights:
            continue
        src = trained.get_layer(layer.name)
        if isinstance(src, WNDense):
            layer.set_weights([np.asarray(src.effective_kernel()), np.asarray(src.b)])
        else:
            layer.set_weights(src.get_weights())
    return plain


def generator_input(cfg, z: np.ndarray) -> np.ndarray:
    """What the generator is fed for latent vectors z: z itself, or for a conditional generator
    z followed by the one-hot digit i % 10 of row i (so a 10-wide grid has one digit per column
    and any 10 consecutive samples cover every digit once)."""
    if not cfg.conditional:
        return z
    digits = np.eye(N_CLASSES, dtype=z.dtype)[np.arange(len(z)) % N_CLASSES]
    return np.concatenate([z, digits], axis=1)


def build_generator(cfg) -> keras.Model:
    z = keras.Input((cfg.latent_dim + (N_CLASSES if cfg.conditional else 0),), name="z")
    if cfg.generator == "tutorial":  # the Keras tutorials' generator
        h = layers.Dense(7 * 7 * 128, name="g_dense0")(z)
        h = layers.LeakyReLU(0.2)(h)
        h = layers.Reshape((7, 7, 128))(h)
        for i in range(2):
            h = layers.Conv2DTranspose(128, 4, strides=2, padding="same", name=f"g_deconv{i}")(h)
            h = layers.LeakyReLU(0.2)(h)
        out = layers.Conv2D(1, 7, padding="same", activation="tanh", name="g_out")(h)
    elif cfg.generator == "dcgan":
        # 7x7x64 -> 14x14x32 -> 28x28x1 (Radford et al. 2016, narrowed for a CPU): its
        # neighbouring pixels are made together, so strokes come out smooth, not speckled
        h = layers.Dense(7 * 7 * 64, use_bias=False, name="g_dense0")(z)
        h = layers.BatchNormalization(name="g_norm0")(h)
        h = layers.ReLU()(h)
        h = layers.Reshape((7, 7, 64))(h)
        h = layers.Conv2DTranspose(32, 4, strides=2, padding="same", use_bias=False,
                                   name="g_deconv0")(h)
        h = layers.BatchNormalization(name="g_norm1")(h)
        h = layers.ReLU()(h)
        out = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh",
                                     name="g_out")(h)
    else:
        h = z
        for i, units in enumerate((500, 500)):
            h = layers.Dense(units, use_bias=False, name=f"g_dense{i}")(h)
            h = layers.BatchNormalization(name=f"g_norm{i}")(h)
            h = layers.Activation("softplus")(h)
        h = layers.Dense(28 * 28, activation="tanh", name="g_out")(h)
        out = layers.Reshape((28, 28, 1))(h)
    return keras.Model(z, out, name="generator")


def build_classifier(discriminator: keras.Model, variant: str) -> keras.Model:
    """x -> 10 class probabilities, sharing the discriminator's layers (and weights)."""
    raw = discriminator.outputs[1]
    if raw.shape[-1] == N_CLASSES:
        logits = raw
    else:
        # Drop the extra logit with a frozen 0/1 projection (a Lambda would break safe loading).
        # For multi, softmax over the 10 digit logits = the 11-way softmax renormalised without
        # the fake class.
        select = layers.Dense(N_CLASSES, use_bias=False, trainable=False, name="digit_logits")
        logits = select(raw)
        select.set_weights([np.eye(raw.shape[-1], N_CLASSES, dtype=np.float32)])
    probs = layers.Softmax(name="probabilities")(logits)
    return keras.Model(discriminator.inputs, probs, name=f"classifier_{variant}")


def build_logits_model(discriminator: keras.Model) -> keras.Model:
    """x -> raw logits only (what discriminator.keras holds)."""
    return keras.Model(discriminator.inputs, discriminator.outputs[1], name="discriminator")
