"""Augmentation: shapes, identity at zero strength, rotation about the centre, background fill."""
import numpy as np

from sgan_core.data.augment import affine_images, shift_images

BG = -1.0


def bar_images(n=8):
    x = np.full((n, 28, 28, 1), BG, np.float32)
    x[:, 6:22, 13:15] = 1.0  # a vertical bar through the centre
    return x


def ink(x):
    return (x[..., 0] - BG).sum(axis=(1, 2))


def centre_of_mass(x):
    w = x[..., 0] - BG
    rows, cols = np.arange(28)[None, :, None], np.arange(28)[None, None, :]
    return (w * rows).sum((1, 2)) / w.sum((1, 2)), (w * cols).sum((1, 2)) / w.sum((1, 2))


def test_shift_moves_ink_without_losing_it():
    x = bar_images()
    y = shift_images(x, 2, np.random.default_rng(0), BG)
    assert y.shape == x.shape
    np.testing.assert_allclose(ink(y), ink(x))
    assert shift_images(x, 0, np.random.default_rng(0), BG) is x


def test_affine_with_zero_strength_is_the_identity():
    x = bar_images()
    y = affine_images(x, np.random.default_rng(0), BG, max_degrees=0, max_scale=0, max_shift=0)
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_rotation_turns_the_bar_about_the_centre_and_keeps_its_ink():
    x = bar_images(64)
    y = affine_images(x, np.random.default_rng(1), BG, max_degrees=30, max_scale=0, max_shift=0)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert y.min() >= BG - 1e-5 and y.max() <= 1.0 + 1e-5
    np.testing.assert_allclose(ink(y), ink(x), rtol=0.03)
    (ry, rx), (oy, ox) = centre_of_mass(y), centre_of_mass(x)
    np.testing.assert_allclose(ry, oy, atol=0.1)
    np.testing.assert_allclose(rx, ox, atol=0.1)
    # rotated: the bar's ends moved sideways, so some ink left columns 13-14
    off_bar = (y[:, :, :13, 0] > 0).any(axis=(1, 2)) | (y[:, :, 15:, 0] > 0).any(axis=(1, 2))
    assert off_bar.mean() > 0.8


def test_pixels_from_outside_the_image_take_the_background():
    x = np.ones((4, 28, 28, 1), np.float32)
    y = affine_images(x, np.random.default_rng(2), BG, max_degrees=0, max_scale=0, max_shift=3)
    # a shift of up to 3 px leaves a band of background on at least one side
    assert (y < 0.999).any(axis=(1, 2, 3)).all()
    assert np.isclose(y[:, 10:18, 10:18], 1.0).all()


def test_same_seed_same_images():
    x = bar_images()
    a = affine_images(x, np.random.default_rng(5), BG)
    b = affine_images(x, np.random.default_rng(5), BG)
    np.testing.assert_array_equal(a, b)
