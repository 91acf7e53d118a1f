"""Augmentation: shapes, identity at zero strength, rotation about the centre, background fill,
cutout squares, elastic distortion, stroke thickness, width stretch and shear."""
import numpy as np

from sgan_core.augment import (affine_images, cutout_images, elastic_fields, shift_images,
                               thickness_images)

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


def test_cutout_blanks_one_square_per_image_and_nothing_else():
    x = np.ones((200, 28, 28, 1), np.float32)
    y = cutout_images(x, 6, np.random.default_rng(3), BG)
    assert y.shape == x.shape and y.dtype == x.dtype
    blank = y[..., 0] == BG
    assert np.isin(y, (BG, 1.0)).all()
    rows, cols = blank.any(axis=2), blank.any(axis=1)
    # each blank region is one axis-aligned rectangle, 6 x 6 unless clipped at an edge
    assert (blank.sum((1, 2)) == rows.sum(1) * cols.sum(1)).all()
    assert rows.sum(1).max() == 6 and cols.sum(1).max() == 6
    assert (rows.sum(1) >= 3).all() and (cols.sum(1) >= 3).all()
    assert 0.5 < (blank.sum((1, 2)) == 36).mean() < 1.0  # some squares hang over an edge
    assert cutout_images(x, 0, np.random.default_rng(3), BG) is x


def test_elastic_fields_are_smooth_and_bounded_by_alpha():
    dy, dx = elastic_fields(50, 28, np.random.default_rng(4), alpha=2.5, sigma=4.0)
    assert dy.shape == dx.shape == (50, 28, 28)
    assert np.isclose(np.abs(dy).max(axis=(1, 2)), 2.5).all()
    # neighbouring pixels move together: steps between them are far below the displacement
    assert np.abs(np.diff(dy, axis=1)).max() < 0.5 * 2.5
    assert np.abs(dy).mean() > 0.5


def test_elastic_distortion_bends_strokes_but_keeps_them_near():
    x = bar_images(20)
    plain = affine_images(x, np.random.default_rng(6), BG, max_degrees=0, max_scale=0,
                          max_shift=0)
    bent = affine_images(x, np.random.default_rng(6), BG, max_degrees=0, max_scale=0,
                         max_shift=0, elastic=2.0)
    assert np.abs(bent - plain).max() > 0.5  # pixels changed
    assert np.abs(ink(bent) / ink(plain) - 1).max() < 0.35
    cy, cx = centre_of_mass(bent)
    assert np.abs(cy - 13.5).max() < 2.0 and np.abs(cx - 13.5).max() < 2.0


def bar_width(x):
    """Inked columns in the bar's middle row (>0 means more than half-way to full ink)."""
    return (x[:, 14, :, 0] > 0).sum(axis=-1)


def test_thickness_widens_or_thins_strokes_in_place():
    x = bar_images(400)
    y = thickness_images(x, 1.0, np.random.default_rng(5), BG)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert y.min() >= BG and y.max() <= 1.0
    a = np.random.default_rng(5).uniform(-1.0, 1.0, 400)  # the draw the function makes
    thicker, thinner = a > 0.6, a < -0.6
    assert (ink(y)[thicker] > ink(x)[thicker] * 1.5).all()
    assert (ink(y)[thinner] < ink(x)[thinner] * 0.9).all()
    assert (bar_width(y)[thicker] == 4).all()            # 2-pixel bar grows a pixel each side
    assert (bar_width(y)[thinner] <= 2).all()
    # the stroke stays where it was: nothing appears more than one pixel away from it
    far = np.ones((28, 28), bool)
    far[5:23, 12:16] = False
    assert (y[:, far, 0] == BG).all()
    np.testing.assert_allclose(centre_of_mass(y), centre_of_mass(x), atol=0.5)


def test_thickness_zero_is_the_identity():
    x = bar_images()
    assert thickness_images(x, 0.0, np.random.default_rng(5), BG) is x


def only(**kw):
    """affine_images arguments that switch off rotation, scale and shift."""
    return dict(max_degrees=0, max_scale=0, max_shift=0, **kw)


def test_stretch_changes_the_width_and_not_the_height():
    x = np.full((200, 28, 28, 1), BG, np.float32)
    x[:, 13:15, 6:22] = 1.0  # a horizontal bar 16 px long, 2 px high
    y = affine_images(x, np.random.default_rng(7), BG, **only(stretch=0.4))
    length = (y[:, 13, :, 0] > 0).sum(-1)
    assert length.min() >= 16 * 0.6 - 1 and length.max() <= 16 * 1.4 + 1
    assert length.min() <= 11 and length.max() >= 21  # both narrower and wider copies
    assert ((y[:, :, 13, 0] > 0).sum(-1) == 2).all()  # height unchanged
    np.testing.assert_allclose(centre_of_mass(y)[1], 13.5, atol=0.3)


def test_shear_slants_a_vertical_bar_about_the_centre():
    x = bar_images(200)  # rows 6-21, columns 13-14
    y = affine_images(x, np.random.default_rng(8), BG, **only(shear=0.3))
    w = y[..., 0] - BG
    cols = np.arange(28)
    top, bottom = [(w[:, r] * cols).sum((1, 2)) / w[:, r].sum((1, 2))
                   for r in (slice(6, 9), slice(19, 22))]
    lean = bottom - top  # columns moved over the 13 rows between the two ends
    assert np.abs(lean).max() <= 0.3 * 13 + 0.5
    assert (lean > 2.5).any() and (lean < -2.5).any()  # slanted both ways
    np.testing.assert_allclose(centre_of_mass(y)[1], 13.5, atol=0.3)
    np.testing.assert_allclose(ink(y), ink(x), rtol=0.05)  # a shear keeps the area


def test_stretch_and_shear_off_draw_nothing_extra():
    x = bar_images()
    a = affine_images(x, np.random.default_rng(9), BG)
    b = affine_images(x, np.random.default_rng(9), BG, stretch=0.0, shear=0.0)
    c = affine_images(x, np.random.default_rng(9), BG, stretch=0.3)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.5
