"""Fit figures: what each panel shows, duck-typed intervals and breakpoints, PNG output, the missing extra."""

import sys

import numpy as np
import pytest

from mlpfit import NeuralRegressor, plot

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X1 = RNG.uniform(0, 10, size=(60, 1))
y1 = np.sqrt(X1[:, 0]) + 0.05 * RNG.normal(size=60)


@pytest.fixture(scope="module")
def relu_model():
    return NeuralRegressor(max_iter=60, random_state=0, early_stopping=True).fit(X1, y1)


def test_one_input_shows_curve_breakpoints_residuals_and_both_loss_curves(relu_model):
    figure = plot.fit(relu_model, X1, y1, x_names=["dose"], y_names=["response"])
    curve_ax, residual_ax, loss_ax = figure.axes
    curve, marks = curve_ax.get_lines()
    assert len(curve.get_xdata()) == plot.GRID_POINTS
    assert np.allclose(curve.get_ydata(), relu_model.predict(curve.get_xdata()[:, None]))
    kinks = relu_model.piecewise_linear().breakpoints
    inside = kinks[(kinks >= X1.min()) & (kinks <= X1.max())]
    assert inside.size > 0 and np.allclose(np.sort(marks.get_xdata()), np.sort(inside))
    assert curve_ax.get_xlabel() == "dose" and curve_ax.get_ylabel() == "response"
    residuals = residual_ax.collections[0].get_offsets()[:, 1]
    assert np.allclose(residuals, y1 - relu_model.predict(X1))
    networks = [f" (network {i + 1})" for i in range(relu_model.n_averaged_)] if relu_model.n_averaged_ > 1 else [""]
    labels = [f"{curve}{network}" for network in networks for curve in ("training", "validation")]
    assert [line.get_label() for line in loss_ax.get_lines()] == labels


class WithInterval:
    """A stand-in for models with ``predict_interval`` (duck typing, as ensembles)."""

    n_features_in_ = 1
    loss_curve_ = [1.0, 0.5]

    def predict(self, X):
        return 2 * X[:, 0]

    def predict_interval(self, X, coverage=0.95):
        return self.predict(X) - coverage, self.predict(X) + coverage


def test_interval_band_is_drawn_when_the_model_has_one():
    curve_ax = plot.fit(WithInterval(), X1, 2 * X1[:, 0]).axes[0]
    band = curve_ax.collections[-1].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(2 * X1.max() + 0.95) and band.min() == pytest.approx(2 * X1.min() - 0.95)
    assert len(curve_ax.get_lines()) == 1  # no kinks marked: the stand-in is not a ReLU network


def test_several_inputs_show_predicted_against_actual():
    X = RNG.normal(size=(50, 2))
    Y = np.c_[X[:, 0] * X[:, 1], X[:, 0]]
    model = NeuralRegressor(max_iter=30, random_state=0).fit(X, Y)
    figure = plot.fit(model, X, Y)
    assert [ax.get_title() for ax in figure.axes] == ["Predicted against actual", "Residuals", "Loss curve"]
    first_output = figure.axes[0].collections[0].get_offsets()
    assert np.allclose(first_output, np.c_[Y[:, 0], model.predict(X)[:, 0]])


def test_png_is_written_atomically_and_readable(relu_model, tmp_path):
    import matplotlib.image

    path = tmp_path / "fit.png"
    plot.save_png(plot.fit(relu_model, X1, y1), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(path).shape[:2] == (400, 1200)
    assert [p.name for p in tmp_path.iterdir()] == ["fit.png"]


def test_missing_matplotlib_names_the_plot_extra(relu_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"mlpfit\[plot\]"):
        plot.fit(relu_model, X1, y1)
