"""The benchmark curves: their truth, their noise levels, their errors."""

import numpy as np
import pytest

from mlpfit.datasets import CURVES, curve_noise, make_curve


@pytest.mark.parametrize("name", sorted(CURVES))
def test_make_curve_returns_the_truth_beside_noisy_samples(name):
    X, y, truth = make_curve(name, random_state=0)
    low, high = CURVES[name][1]
    assert X.shape == (CURVES[name][2], 1) and np.all((X >= low) & (X <= high))
    np.testing.assert_allclose(truth, CURVES[name][0](X[:, 0]))
    assert np.std(y - truth) == pytest.approx(curve_noise(name), rel=0.15)
    _, clean, clean_truth = make_curve(name, 50, noise=0.0, random_state=1)
    np.testing.assert_array_equal(clean, clean_truth)


def test_donoho_johnstone_noise_gives_a_signal_to_noise_ratio_of_seven():
    grid = np.linspace(0, 1, 100_001)
    for name in ("doppler", "heavisine", "bumps", "blocks"):
        assert CURVES[name][0](grid).std() / curve_noise(name) == pytest.approx(7.0)


def test_known_values():
    assert CURVES["sinc"][0](np.array([0.0]))[0] == pytest.approx(1.0)
    np.testing.assert_allclose(CURVES["blocks"][0](np.array([0.05, 0.12])), [0.0, 4.0])
    np.testing.assert_allclose(CURVES["heavisine"][0](np.array([0.5])), [-2.0], atol=1e-12)  # 4 sin(2 pi) - 1 - 1


def test_unknown_curve_raises():
    with pytest.raises(ValueError, match="name must be one of 'doppler'.*got 'sine'"):
        make_curve("sine")
