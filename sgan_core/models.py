"""Generator and discriminator networks for each preset and discriminator variant.

Every discriminator is a functional Keras model `x -> [features, raw_logits]`:
  stacked, supervised: raw = 10 class logits;
  shared:              raw = 10 class logits + 1 real/fake logit (two heads on one trunk);
  multi:               raw = 11 logits, the 11th meaning "fake".
`split_logits` turns raw logits into (class logits, real/fake logit) for every variant, so the
losses and the exported models treat the variants alike. Only built-in layers are used, so every
saved model loads with `keras.saving.load_model` in safe mode.
"""
from __future__ import annotations

import numpy as np
import keras
from keras import layers, ops

N_CLASSES = 10


def raw_width(variant: str) -> int:
    return N_CLASSES + (1 if variant in ("shared", "multi") else 0)


def split_logits(variant: str, raw):
    """(class_logits[N,10], real_logit[N]) where sigmoid(real_logit) = P(image is real)."""
    class_logits = raw[:, :N_CLASSES]
    if variant == "shared":
        return class_logits, raw[:, N_CLASSES]
    lse = ops.logsumexp(class_logits, axis=-1)
    if variant == "multi":
        # P(real) = sum_k<10 exp(l_k) / sum_all exp(l) -> logit = lse(l_:10) - l_fake
        return class_logits, lse - raw[:, N_CLASSES]
    # stacked (and the supervised baseline): D = Z / (Z + 1) with Z = sum exp(l) -> logit = lse
    return class_logits, lse


def split_logits_np(variant: str, raw: np.ndarray):
    """NumPy twin of split_logits for readers that only have saved-model outputs."""
    raw = np.asarray(raw, dtype=np.float64)
    class_logits = raw[:, :N_CLASSES]
    m = class_logits.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.exp(class_logits - m).sum(axis=-1, keepdims=True)))[:, 0]
    if variant == "shared":
        return class_logits, raw[:, N_CLASSES]
    if variant == "multi":
        return class_logits, lse - raw[:, N_CLASSES]
    return class_logits, lse


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


def _conv_trunk(x, cfg, train):
    """The tutorials' discriminator trunk (arch "conv")."""
    h = x
    for i in range(3):
        h = layers.Conv2D(128, 3, strides=2, padding="same", name=f"d_conv{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    return layers.Dropout(0.4)(h)


def _small_cnn_trunk(x, cfg, train):
    """A narrow strided CNN (arch "cnn"): about the MLP's cost per image, translation-aware."""
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
    trunk = {"mlp": _mlp_trunk, "conv": _conv_trunk, "cnn": _small_cnn_trunk}[cfg.arch]
    features = trunk(x, cfg, train)
    head = (lambda units, name: _dense(units, None, name, train)) if mlp else \
        (lambda units, name: layers.Dense(units, name=name))
    if cfg.variant == "shared":
        raw = layers.Concatenate(name="raw_logits")(
            [head(N_CLASSES, "class_head")(features), head(1, "real_head")(features)])
    else:
        raw = head(raw_width(cfg.variant), "raw_logits")(features)
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


def build_generator(cfg) -> keras.Model:
    z = keras.Input((cfg.latent_dim,), name="z")
    if cfg.arch == "conv":
        h = layers.Dense(7 * 7 * 128)(z)
        h = layers.LeakyReLU(0.2)(h)
        h = layers.Reshape((7, 7, 128))(h)
        for _ in range(2):
            h = layers.Conv2DTranspose(128, 4, strides=2, padding="same")(h)
            h = layers.LeakyReLU(0.2)(h)
        out = layers.Conv2D(1, 7, padding="same", activation="tanh")(h)
    else:
        h = z
        for units in (500, 500):
            h = layers.Dense(units, use_bias=False)(h)
            h = layers.BatchNormalization()(h)
            h = layers.Activation("softplus")(h)
        h = layers.Dense(28 * 28, activation="tanh")(h)
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
