"""The generated-digit measures of benchmarks/samples.py on features whose answer is known."""
import numpy as np

from benchmarks.samples import diversity, frechet_distance, within_digit_spread


def test_frechet_distance_is_zero_for_one_set_and_the_mean_shift_squared_for_a_shifted_copy():
    feats = np.random.default_rng(0).standard_normal((500, 8))
    assert abs(frechet_distance(feats, feats)) < 1e-6
    shift = np.arange(8.0)
    assert np.isclose(frechet_distance(feats, feats + shift), (shift ** 2).sum(), rtol=1e-6)


def test_frechet_distance_grows_when_the_spread_differs():
    rng = np.random.default_rng(1)
    wide, narrow = rng.standard_normal((2000, 4)), 0.3 * rng.standard_normal((2000, 4))
    # four dimensions of variance 1 against 0.09: 4 * (1 - 0.3)^2 = 1.96
    assert np.isclose(frechet_distance(wide, narrow), 1.96, atol=0.15)


def test_diversity_is_one_for_real_spread_and_less_for_collapsed_or_missing_digits():
    rng = np.random.default_rng(2)
    digits = np.repeat(np.arange(10), 50)
    real = rng.standard_normal((500, 6)) + digits[:, None]
    real_spread = within_digit_spread(real, digits)
    assert np.isclose(diversity(real_spread, real_spread), 1.0)
    collapsed = 0.5 * (real - digits[:, None]) + digits[:, None]
    assert np.isclose(diversity(within_digit_spread(collapsed, digits), real_spread), 0.5)
    no_sevens = within_digit_spread(real[digits != 7], digits[digits != 7])
    assert no_sevens[7] is None
    assert np.isclose(diversity(no_sevens, real_spread), 0.9)
