"""Turn a drawing into an MNIST-style 28x28 image, the way MNIST itself was made.

Ink is separated from the background, cropped to its bounding box, scaled (anti-aliased) so its
longer side is 20 pixels, and pasted into 28x28 so that its centre of mass sits at the centre.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

MIN_INK_FRACTION = 0.002   # below this share of inked pixels the canvas counts as blank
MIN_EXTENT_FRACTION = 0.15  # ink whose longer side spans less of the canvas is a dot, not a digit
INK_THRESHOLD = 0.1


def ink_map(image: np.ndarray) -> np.ndarray:
    """Float ink intensity in [0, 1] (1 = full ink) from gray, RGB or RGBA of any polarity.

    RGBA with a transparent border (a canvas drawing layer): ink is the alpha channel.
    Otherwise the background is the median border value and ink is whatever differs from it.
    """
    raw = np.asarray(image)
    a = raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):
        a = a / 255.0
    if a.ndim == 3:
        if a.shape[2] == 4 and np.median(_border(a[..., 3])) < 0.5:
            return np.clip(a[..., 3], 0, 1)  # transparent background: ink = opaque strokes
        a = a[..., :3].mean(axis=2)
    background = float(np.median(_border(a)))
    ink = np.abs(a - background)
    peak = ink.max()
    return ink / peak if peak > 0 else ink


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def to_mnist(image: np.ndarray) -> np.ndarray | None:
    """(H, W[, C]) drawing -> uint8 (28, 28) white-on-black digit, or None if the canvas is blank
    or holds only a dot."""
    ink = ink_map(image)
    mask = ink > INK_THRESHOLD
    if mask.mean() < MIN_INK_FRACTION or mask.sum() < 4:
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    # a dot would be blown up to a 20-pixel blob and read as a confident "0"
    if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < MIN_EXTENT_FRACTION * min(mask.shape):
        return None
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((crop * 255).astype(np.uint8)).resize((new_w, new_h),
                                                                Image.Resampling.LANCZOS)
    small = np.asarray(small, dtype=np.float32)
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = small
    return _center_by_mass(canvas)


def _center_by_mass(img: np.ndarray) -> np.ndarray:
    total = img.sum()
    ys, xs = np.indices(img.shape)
    cy, cx = (ys * img).sum() / total, (xs * img).sum() / total
    dy, dx = 13.5 - cy, 13.5 - cx
    # sub-pixel shift with bilinear interpolation via PIL's affine transform
    shifted = Image.fromarray(img).transform((28, 28), Image.Transform.AFFINE,
                                             (1, 0, -dx, 0, 1, -dy),
                                             resample=Image.Resampling.BILINEAR)
    return np.clip(np.asarray(shifted), 0, 255).round().astype(np.uint8)
