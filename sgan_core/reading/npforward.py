"""A saved Keras model's inference pass in NumPy, for the Draw page's one-image predictions and
the generator desk's batches.

Why not TensorFlow: once Keras is imported in the Streamlit server, Streamlit calls
`keras.backend.clear_session()` after every script run of every viewer
(`script_runner._clean_problem_modules`): it empties TensorFlow's caches (30-60 ms more on each
stroke) and runs a full garbage collection (70% of the server's CPU with 300 viewers,
benchmarks/room.py). So the server never imports Keras: `describe` turns a loaded model into a
ModelSpec (its layers' kinds, settings and weights, in graph order: plain data) in a process that
may, and `forward` runs a spec with NumPy alone.

Only the layer types SGAN Lab's models use are supported; anything else raises
`UnsupportedModel`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Op = Callable[..., np.ndarray]


class UnsupportedModel(ValueError):
    """The model holds a layer (or option) this module cannot run."""


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name == "linear":
        return lambda x: x
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    if name == "tanh":
        return np.tanh
    if name == "softmax":
        return _softmax
    if name == "softplus":
        return lambda x: np.logaddexp(0.0, x)
    raise UnsupportedModel(f"activation {name!r}")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the extra pixel (if any) goes after, not before."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, stride: int,
           padding: str) -> np.ndarray:
    """NHWC convolution (cross-correlation, as in Keras) by gathering patches and one matmul."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = np.pad(x, ((0, 0), _same_padding(x.shape[1], kh, stride),
                       _same_padding(x.shape[2], kw, stride), (0, 0)))
    patches = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    patches = patches[:, ::stride, ::stride]        # (n, oh, ow, cin, kh, kw)
    out = np.einsum("nhwcij,ijco->nhwo", patches, kernel, optimize=True)
    return out + bias if bias is not None else out


def conv2d_transpose(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, stride: int,
                     padding: str) -> np.ndarray:
    """NHWC transposed convolution as Keras computes it (kernel (kh, kw, out, in)): each input
    pixel adds the kernel, weighted by its channels, into the output at stride spacing."""
    n, h, w, _ = x.shape
    kh, kw, cout, _ = kernel.shape
    full = np.zeros((n, max((h - 1) * stride + kh, h * stride),
                     max((w - 1) * stride + kw, w * stride), cout), np.float32)
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * stride + 1:stride, j:j + (w - 1) * stride + 1:stride] += \
                x @ kernel[i, j].T
    if padding == "same":   # the crop of the convolution whose gradient this is
        top, left = max(kh - stride, 0) // 2, max(kw - stride, 0) // 2
        full = full[:, top:top + h * stride, left:left + w * stride]
    return full + bias if bias is not None else full


def _batch_norm(cfg, weights) -> Op:
    if cfg.get("axis", -1) not in (-1, [-1], 3, [3]) and len(weights) != 4:
        raise UnsupportedModel("batch normalization over an axis other than the last")
    weights = list(weights)
    gamma = weights.pop(0) if cfg["scale"] else 1.0
    beta = weights.pop(0) if cfg["center"] else 0.0
    mean, var = weights
    factor = gamma / np.sqrt(var + cfg["epsilon"])
    return lambda x: (x - mean) * factor + beta


def _layer_op(kind: str, name: str, cfg: dict, weights: list[np.ndarray]) -> Op:
    if kind in ("Dropout", "GaussianNoise", "GaussianDropout", "InputLayer"):
        return lambda x: x
    if kind == "Flatten":
        return lambda x: x.reshape(x.shape[0], -1)
    if kind == "Reshape":
        return lambda x: x.reshape((x.shape[0], *cfg["target_shape"]))
    if kind == "LeakyReLU":
        slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
        return lambda x: np.where(x > 0, x, slope * x)
    if kind == "ReLU":
        if cfg.get("max_value") is not None or cfg.get("negative_slope") or cfg.get("threshold"):
            raise UnsupportedModel(f"ReLU options of layer {name!r}")
        return lambda x: np.maximum(x, 0.0)
    if kind == "BatchNormalization":
        return _batch_norm(cfg, weights)
    if kind == "Softmax":
        if cfg.get("axis", -1) not in (-1, [-1]):
            raise UnsupportedModel("softmax over an axis other than the last")
        return _softmax
    if kind == "Activation":
        return _activation(cfg["activation"])
    if kind == "Concatenate":
        return lambda *xs: np.concatenate(xs, axis=cfg.get("axis", -1))
    if kind == "Dense":
        act = _activation(cfg["activation"])
        kernel, bias = weights[0], (weights[1] if cfg["use_bias"] else None)
        return lambda x: act(x @ kernel + bias if bias is not None else x @ kernel)
    if kind == "Conv2D":
        if (cfg["data_format"] != "channels_last" or tuple(cfg["dilation_rate"]) != (1, 1)
                or cfg.get("groups", 1) != 1 or len(set(cfg["strides"])) != 1):
            raise UnsupportedModel(f"Conv2D options of layer {name!r}")
        act = _activation(cfg["activation"])
        kernel, bias = weights[0], (weights[1] if cfg["use_bias"] else None)
        stride, padding = cfg["strides"][0], cfg["padding"]
        return lambda x: act(conv2d(x, kernel, bias, stride, padding))
    if kind == "Conv2DTranspose":
        if (cfg["data_format"] != "channels_last" or tuple(cfg["dilation_rate"]) != (1, 1)
                or cfg.get("output_padding") is not None or len(set(cfg["strides"])) != 1):
            raise UnsupportedModel(f"Conv2DTranspose options of layer {name!r}")
        act = _activation(cfg["activation"])
        kernel, bias = weights[0], (weights[1] if cfg["use_bias"] else None)
        stride, padding = cfg["strides"][0], cfg["padding"]
        return lambda x: act(conv2d_transpose(x, kernel, bias, stride, padding))
    raise UnsupportedModel(f"layer type {kind} ({name!r})")


@dataclass
class ModelSpec:
    """A single-input functional model as plain data: each layer (kind, name, settings,
    weights, ids of its input and output tensors) in graph order, and its shapes."""
    layers: list[tuple[str, str, dict, list[np.ndarray], list[int], list[int]]]
    input_id: int
    output_ids: list[int]
    input_shape: tuple
    output_shape: tuple


def describe(model) -> ModelSpec:
    """A loaded Keras model as a ModelSpec; UnsupportedModel when forward could not run it."""
    if len(model.inputs) != 1:
        raise UnsupportedModel("models with more than one input")
    layers = []
    for layer in model.operations:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        nodes = layer._inbound_nodes
        if len(nodes) != 1:
            raise UnsupportedModel(f"layer {layer.name!r} is used more than once")
        cfg, weights = layer.get_config(), [w.astype(np.float32) for w in layer.get_weights()]
        _layer_op(kind, layer.name, cfg, weights)  # refuse what forward cannot run, here
        layers.append((kind, layer.name, cfg, weights, [id(t) for t in nodes[0].input_tensors],
                       [id(t) for t in nodes[0].output_tensors]))
    try:
        shapes = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError):
        shapes = None, None
    return ModelSpec(layers, id(model.inputs[0]), [id(t) for t in model.outputs], *shapes)


def forward(spec: ModelSpec) -> Callable[[np.ndarray], list[np.ndarray]]:
    """A function x -> [outputs] running the spec's model in NumPy."""
    steps = [(_layer_op(kind, name, cfg, weights), ins, outs)
             for kind, name, cfg, weights, ins, outs in spec.layers]

    def run(x: np.ndarray) -> list[np.ndarray]:
        values = {spec.input_id: np.asarray(x, np.float32)}
        for op, ins, outs in steps:
            values[outs[0]] = op(*(values[i] for i in ins))
        return [values[i] for i in spec.output_ids]

    return run


def compile_model(model) -> Callable[[np.ndarray], list[np.ndarray]]:
    """A function x -> [outputs] running a single-input functional Keras model in NumPy."""
    return forward(describe(model))
