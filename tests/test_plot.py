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
    assert [ax.get_title() for ax in figure.axes] == ["Fit", "Residuals", "Loss curve"]
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


def test_a_bayesian_fit_draws_each_networks_data_term_ticked_where_the_penalty_was_reestimated():
    model = NeuralRegressor(alpha="bayes", n_averaged=2, random_state=0).fit(X1, y1)
    loss_ax = plot.fit(model, X1, y1).axes[2]
    curves, ticks = loss_ax.get_lines()[0::2], loss_ax.get_lines()[1::2]
    assert [line.get_label() for line in curves] == ["training data term (network 1)", "training data term (network 2)"]
    assert [line.get_label() for line in ticks] == [plot.REESTIMATED_LABEL, "_nolegend_"]
    for curve, tick, run in zip(curves, ticks, model.fitted_.runs, strict=True):
        assert np.array_equal(curve.get_ydata(), run.data_curve) and run.data_curve != run.loss_curve
        assert run.reestimations and np.array_equal(tick.get_xdata(), np.array(run.reestimations) + 1)
        assert np.array_equal(tick.get_ydata(), np.array(run.data_curve)[run.reestimations])
    legend = [text.get_text() for text in loss_ax.get_legend().get_texts()]
    assert legend.count(plot.REESTIMATED_LABEL) == 1


def test_a_fixed_penalty_fit_draws_its_objective_unticked(relu_model):
    loss_ax = plot.fit(relu_model, X1, y1).axes[2]
    assert np.array_equal(loss_ax.get_lines()[0].get_ydata(), relu_model.loss_curve_)
    assert plot.REESTIMATED_LABEL not in [line.get_label() for line in loss_ax.get_lines()]


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


def test_several_inputs_show_predicted_against_actual_per_output():
    X = RNG.normal(size=(50, 2))
    Y = np.c_[X[:, 0] * X[:, 1], 100 * X[:, 0]]
    model = NeuralRegressor(max_iter=30, random_state=0).fit(X, Y)
    figure = plot.fit(model, X, Y, y_names=["product", "scaled"])
    assert [ax.get_title() for ax in figure.axes] == [
        "Predicted against actual: product",
        "Residuals: product",
        "Loss curve",
        "Predicted against actual: scaled",
        "Residuals: scaled",
    ]
    P = model.predict(X)
    for k, (actual_ax, residual_ax) in enumerate([figure.axes[:2], figure.axes[3:]]):
        assert np.allclose(actual_ax.collections[0].get_offsets(), np.c_[Y[:, k], P[:, k]])
        assert np.allclose(residual_ax.collections[0].get_offsets(), np.c_[P[:, k], Y[:, k] - P[:, k]])
        assert len(actual_ax.collections) == len(residual_ax.collections) == 1  # no other output drawn here


def test_one_input_two_outputs_give_a_row_each_with_its_own_data_and_name():
    Y = np.c_[y1, 1000 * X1[:, 0]]  # different units: each output gets its own axes
    model = NeuralRegressor(max_iter=60, random_state=0).fit(X1, Y)
    figure = plot.fit(model, X1, Y, x_names=["dose"], y_names=["response", "cost"])
    curve_0, residual_0, loss_ax, curve_1, residual_1 = figure.axes
    assert loss_ax.get_title() == "Loss curve" and loss_ax.get_subplotspec().rowspan == range(2)
    P = model.predict(X1)
    kinks = model.piecewise_linear().breakpoints
    inside = np.sort(kinks[(kinks >= X1.min()) & (kinks <= X1.max())])
    for k, (curve_ax, residual_ax, name) in enumerate(
        [(curve_0, residual_0, "response"), (curve_1, residual_1, "cost")]
    ):
        assert curve_ax.get_title() == f"Fit: {name}" and residual_ax.get_title() == f"Residuals: {name}"
        assert curve_ax.get_ylabel() == name and curve_ax.get_xlabel() == "dose"
        curve, marks = curve_ax.get_lines()
        assert np.allclose(curve.get_ydata(), model.predict(curve.get_xdata()[:, None])[:, k])
        assert np.allclose(curve_ax.collections[0].get_offsets(), np.c_[X1[:, 0], Y[:, k]])
        assert np.allclose(marks.get_xdata(), inside) and np.allclose(
            marks.get_ydata(), model.predict(inside[:, None])[:, k]
        )
        assert np.allclose(residual_ax.collections[0].get_offsets(), np.c_[X1[:, 0], Y[:, k] - P[:, k]])


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
