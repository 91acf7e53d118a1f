"""Image grids of generated digits (PNG) and their animation (GIF).

Grids are read back as untrusted files: one that is damaged or is not a small grayscale PNG
raises GridError (read_grid) or is left out of the animation (gif_bytes)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from sgan_core.data.mnist import to_uint8


def grid_image(images: np.ndarray, rows: int = 10, input_range=(-1.0, 1.0)) -> Image.Image:
    """(N, 28, 28[, 1]) images -> one grayscale picture, `rows` images per side."""
    return tile_image(to_uint8(images, input_range).reshape(-1, 28, 28), rows, rows)


def tile_image(images: np.ndarray, cols: int, rows: int | None = None,
               gap: int = 0) -> Image.Image:
    """uint8 (N, 28, 28) images -> one picture, `cols` a row (as many rows as they need), with
    `gap` grey pixels between them."""
    rows = rows or max(1, -(-len(images) // cols))
    step = 28 + gap
    canvas = np.full((rows * step - gap, cols * step - gap), 128 if gap else 0, np.uint8)
    for i, img in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        canvas[r * step:r * step + 28, c * step:c * step + 28] = img
    return Image.fromarray(canvas, mode="L")


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


MAX_GRID_SIDE = 2000  # pixels: a 10x10 grid is 280; anything far larger is not ours


class GridError(ValueError):
    """A sample grid file that cannot be shown; the message says why."""


def read_grid(path) -> Image.Image:
    """A saved grid, fully decoded (a truncated file fails here, not in the page)."""
    try:
        with Image.open(path) as img:
            if img.format != "PNG" or max(img.size) > MAX_GRID_SIDE:
                raise GridError(f"{Path(path).name} is not a sample grid")
            img.load()
            return img.convert("L")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        if isinstance(e, GridError):
            raise
        raise GridError(f"{Path(path).name} cannot be read (the file is damaged)") from None


def gif_bytes(paths, ms_per_frame: int = 300) -> bytes:
    """Animated GIF of the given PNG grids, in order, leaving out damaged ones; the last frame
    is held longer."""
    frames = []
    for p in paths:
        try:
            frames.append(read_grid(p))
        except GridError:
            continue
    if not frames:
        return b""
    buf = io.BytesIO()
    durations = [ms_per_frame] * (len(frames) - 1) + [ms_per_frame * 5]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0)
    return buf.getvalue()
