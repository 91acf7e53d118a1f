"""Random image augmentation for training batches, in NumPy on (N, 28, 28, 1) float arrays.

`shift_images` is the light augmentation (whole-pixel translation); `affine_images` the strong
one (rotation, scale and translation with bilinear resampling, optionally an elastic
distortion on top) that a self-training student sees,
so that it has to agree with the teacher on harder views of the same digit; `cutout_images`
blanks a random square on top of it, so the student cannot lean on any one stroke;
`thickness_images` makes strokes randomly thicker or thinner before the affine warp.
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


def _smoothing_matrix(size: int, sigma: float) -> np.ndarray:
    """M with (M @ f) = f convolved with a Gaussian of width sigma along the first axis."""
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    m = np.exp(-0.5 * (d / sigma) ** 2)
    return m / m.sum(axis=1, keepdims=True)


def elastic_fields(n: int, size: int, rng: np.random.Generator, alpha: float, sigma: float):
    """n pairs of smooth random displacement fields (Simard et al. 2003): uniform noise in
    [-1, 1] blurred by a Gaussian of width sigma, rescaled to a largest displacement of alpha
    pixels."""
    m = _smoothing_matrix(size, sigma)
    noise = rng.uniform(-1.0, 1.0, (2, n, size, size))
    fields = m @ noise @ m.T
    peak = np.abs(fields).max(axis=(2, 3), keepdims=True) + 1e-12
    return alpha * fields / peak


def affine_images(x: np.ndarray, rng: np.random.Generator, background: float,
                  max_degrees: float = 15.0, max_scale: float = 0.1, max_shift: float = 3.0,
                  elastic: float = 0.0, elastic_sigma: float = 4.0, stretch: float = 0.0,
                  shear: float = 0.0):
    """Rotate by up to max_degrees, scale by 1 +- max_scale and translate by up to max_shift
    pixels around the image centre; pixels from outside the image take the background value.
    stretch > 0 also scales the width alone by 1 +- stretch, and shear > 0 slants the image
    (x += k * y, |k| <= shear): MNIST's digits differ most in width and slant.
    elastic > 0 adds a smooth random distortion moving each pixel by up to that many pixels."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
    ty, tx = rng.uniform(-max_shift, max_shift, (2, n))
    # inverse map: output pixel p samples the input at M^-1 (p - c - t) + c, with the forward
    # map M = scale * rotation(angle) @ shear(k) @ diag(1, width) in (y, x) coordinates
    width = rng.uniform(1.0 - stretch, 1.0 + stretch, n) if stretch > 0 else np.ones(n)
    k = rng.uniform(-shear, shear, n) if shear > 0 else np.zeros(n)
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    m = np.stack([np.stack([cos + sin * k, sin * width], -1),
                  np.stack([-sin + cos * k, cos * width], -1)], -2)   # (n, 2, 2)
    inv = np.linalg.inv(m)[:, :, :, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    gy, gx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    py = gy[None] - ty[:, None, None]
    px = gx[None] - tx[:, None, None]
    sy = inv[:, 0, 0] * py + inv[:, 0, 1] * px + cy
    sx = inv[:, 1, 0] * py + inv[:, 1, 1] * px + cx
    if elastic > 0:
        dy, dx = elastic_fields(n, h, rng, elastic, elastic_sigma)
        sy, sx = sy + dy, sx + dx
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


def thickness_images(x: np.ndarray, strength: float, rng: np.random.Generator,
                     background: float):
    """Random stroke width: each image moves a random fraction a in [-strength, strength] of the
    way to its 3x3 dilation (a > 0, thicker strokes) or to its plus-shaped erosion (a < 0,
    thinner). strength 1 spans MNIST's range from hairline to bold writing."""
    if strength <= 0:
        return x
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    padded = _pad(x, 1, background)
    shifted = {(dy, dx): padded[:, 1 + dy:h + 1 + dy, 1 + dx:w + 1 + dx]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    dilated = np.max(list(shifted.values()), axis=0)
    eroded = np.min([shifted[k] for k in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))], axis=0)
    a = rng.uniform(-strength, strength, (n, 1, 1)).astype(x.dtype)
    base = x[..., 0]
    out = np.where(a > 0, base + a * (dilated - base), base - a * (eroded - base))
    return out[..., None]


def cutout_images(x: np.ndarray, size: int, rng: np.random.Generator, background: float):
    """Set a random size x size square of each image (centre anywhere, clipped at the edges)
    to the background value."""
    if size <= 0:
        return x
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    top = rng.integers(0, h, n)[:, None] - size // 2
    left = rng.integers(0, w, n)[:, None] - size // 2
    rows, cols = np.arange(h)[None, :], np.arange(w)[None, :]
    in_rows = (rows >= top) & (rows < top + size)
    in_cols = (cols >= left) & (cols < left + size)
    mask = in_rows[:, :, None] & in_cols[:, None, :]
    return np.where(mask[..., None], np.asarray(background, x.dtype), x)
