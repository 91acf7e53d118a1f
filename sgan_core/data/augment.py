"""Random image augmentation for training batches, in NumPy on (N, 28, 28, 1) float arrays.

`shift_images` is the light augmentation (whole-pixel translation); `affine_images` the strong
one (rotation, scale and translation with bilinear resampling) that a self-training student
sees, so that it has to agree with the teacher on harder views of the same digit.
"""
from __future__ import annotations

import numpy as np


def _pad(x: np.ndarray, s: int, background: float) -> np.ndarray:
    """(N, H, W, 1) images -> (N, H + 2s, W + 2s) with an s-pixel border of background."""
    return np.pad(x[..., 0], ((0, 0), (s, s), (s, s)), constant_values=background)


def shift_images(x: np.ndarray, max_shift: int, rng: np.random.Generator, background: float):
    """Translate each image by a random offset in [-max_shift, max_shift] pixels."""
    if max_shift <= 0:
        return x
    n, s = x.shape[0], max_shift
    padded = _pad(x, s, background)
    dy, dx = rng.integers(0, 2 * s + 1, (2, n))
    rows = dy[:, None] + np.arange(28)
    cols = dx[:, None] + np.arange(28)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out[..., None]


def affine_images(x: np.ndarray, rng: np.random.Generator, background: float,
                  max_degrees: float = 15.0, max_scale: float = 0.1, max_shift: float = 3.0):
    """Rotate by up to max_degrees, scale by 1 +- max_scale and translate by up to max_shift
    pixels around the image centre; pixels from outside the image take the background value."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
    ty, tx = rng.uniform(-max_shift, max_shift, (2, n))
    # inverse map: output pixel p samples the input at M^-1 (p - c - t) + c, with the forward
    # map M = scale * rotation(angle) in (y, x) coordinates
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    m = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)   # (n, 2, 2)
    inv = np.linalg.inv(m)[:, :, :, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    gy, gx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    py = gy[None] - ty[:, None, None]
    px = gx[None] - tx[:, None, None]
    sy = inv[:, 0, 0] * py + inv[:, 0, 1] * px + cy
    sx = inv[:, 1, 0] * py + inv[:, 1, 1] * px + cx
    padded = _pad(x, 1, background)
    sy = np.clip(sy + 1, 0, h + 1)  # padded coordinates: rows 0 and h + 1 are background
    sx = np.clip(sx + 1, 0, w + 1)
    y0, x0 = np.floor(sy).astype(np.int64), np.floor(sx).astype(np.int64)
    y1, x1 = np.minimum(y0 + 1, h + 1), np.minimum(x0 + 1, w + 1)
    fy, fx = (sy - y0).astype(np.float32), (sx - x0).astype(np.float32)
    b = np.arange(n)[:, None, None]
    out = (padded[b, y0, x0] * (1 - fy) * (1 - fx) + padded[b, y0, x1] * (1 - fy) * fx
           + padded[b, y1, x0] * fy * (1 - fx) + padded[b, y1, x1] * fy * fx)
    return out[..., None].astype(x.dtype)
