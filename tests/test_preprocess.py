"""MNIST-style preprocessing of drawings."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from sgan_core.data.canvas import to_mnist
from sgan_core.data.mnist import load_mnist, scale_images


def drawing(shape="seven", size=280, offset=(0, 0), scale=1.0, width=18, ink=255, bg=0):
    img = Image.new("L", (size, size), bg)
    d = ImageDraw.Draw(img)
    ox, oy = offset

    def p(x, y):
        return (size / 2 + ox + scale * x, size / 2 + oy + scale * y)
    if shape == "seven":
        d.line([p(-50, -70), p(50, -70), p(-10, 80)], fill=ink, width=width, joint="curve")
    else:  # zero
        d.ellipse([p(-45, -75), p(45, 75)], outline=ink, width=width)
    return np.asarray(img)


def test_blank_and_near_blank_give_none():
    assert to_mnist(np.zeros((280, 280), np.uint8)) is None
    speck = np.zeros((280, 280), np.uint8)
    speck[100, 100] = 255
    assert to_mnist(speck) is None
    # a click with a wide pen: a 22-pixel dot, enough ink but no digit
    dot = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(dot).ellipse([89, 89, 111, 111], fill=255)
    assert to_mnist(np.asarray(dot)) is None


def test_output_is_mnist_like():
    out = to_mnist(drawing())
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows, cols = np.flatnonzero(out.max(1) > 30), np.flatnonzero(out.max(0) > 30)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22  # 20 px box, anti-aliased edge
    ys, xs = np.indices(out.shape)
    w = out.astype(float)
    assert abs((ys * w).sum() / w.sum() - 13.5) < 0.6 and abs((xs * w).sum() / w.sum() - 13.5) < 0.6


@pytest.mark.parametrize("offset,scale", [((60, 40), 1.0), ((-50, -30), 0.6), ((0, 0), 1.4)])
def test_shift_and_size_do_not_matter(offset, scale):
    ref = to_mnist(drawing()).astype(float)
    moved = to_mnist(drawing(offset=offset, scale=scale, width=int(18 * scale))).astype(float)
    assert np.abs(ref - moved).mean() < 12  # of 255: the same digit within a small tolerance


def test_inverted_and_rgba_inputs_match():
    ref = to_mnist(drawing()).astype(float)
    inverted = to_mnist(drawing(ink=0, bg=255)).astype(float)
    gray = drawing()
    rgba = np.zeros((280, 280, 4), np.uint8)  # canvas layer: white strokes, transparent elsewhere
    rgba[..., :3] = 255
    rgba[..., 3] = gray
    rgb = np.repeat(gray[..., None], 3, axis=2)
    for other in (inverted, to_mnist(rgba).astype(float), to_mnist(rgb).astype(float)):
        assert np.abs(ref - other).mean() < 3


def test_mnist_digits_survive_the_pipeline():
    """Real MNIST test digits, enlarged like a canvas drawing, come back nearly as they were."""
    d = load_mnist()
    corrs = []
    for img in d.x_test[:50]:
        big = np.asarray(Image.fromarray(img).resize((280, 280), Image.Resampling.BILINEAR))
        back = to_mnist(big).astype(float)
        assert np.abs(back - img.astype(float)).mean() < 25
        corrs.append(np.corrcoef(back.ravel(), img.astype(float).ravel())[0, 1])
    # thin strokes moved by a pixel lower one image's correlation; on average they match
    assert min(corrs) > 0.5 and np.mean(corrs) > 0.75


def test_model_input_range():
    x = scale_images(np.array([[[0, 255] + [0] * 26] * 28], np.uint8), (-1.0, 1.0))
    assert x.shape == (1, 28, 28, 1) and x.min() == -1 and x.max() == 1
