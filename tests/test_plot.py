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


# --- the figures of an assessment, split by split ----------------------------------------------------------------

SPLITS = {"train": (X1[:45], y1[:45]), "test": (X1[45:], y1[45:])}


class Quadratic:
    """A stand-in of two inputs, ``2 a + b**2``: its partial dependence on each is known in closed form."""

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return 2 * X[:, 0] + X[:, 1] ** 2


def test_regression_draws_each_split_with_its_least_squares_line_and_r(relu_model):
    figure = plot.regression(relu_model, SPLITS, y_names=["response"])
    assert len(figure.axes) == 2
    for ax, (name, (X, y)) in zip(figure.axes, SPLITS.items()):
        P = relu_model.predict(X)
        assert ax.get_title() == f"{name}: R = {np.corrcoef(y, P)[0, 1]:.4f}"
        assert np.allclose(ax.collections[0].get_offsets(), np.c_[y, P])
        line = ax.get_lines()[0]
        slope, intercept = np.polyfit(y, P, 1)
        assert np.allclose(line.get_ydata(), slope * line.get_xdata() + intercept)
        assert np.allclose(line.get_xdata(), [y.min(), y.max()])


def test_regression_of_two_outputs_titles_each_panel_with_output_and_split():
    Y = np.c_[y1, -y1]
    model = NeuralRegressor(5, max_iter=20, random_state=0).fit(X1, Y)
    figure = plot.regression(model, {"train": (X1[:40], Y[:40]), "test": (X1[40:], Y[40:])}, y_names=["p", "q"])
    titles = [ax.get_title().split(":")[0] for ax in figure.axes]
    assert titles == ["p, train", "p, test", "q, train", "q, test"]


def test_an_undefined_correlation_says_so_and_draws_no_line():
    figure = plot.regression(Quadratic(), {"one row": (np.array([[1.0, 2.0]]), [6.0])})
    assert figure.axes[0].get_title() == "one row: R = n/a"
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["predicted = actual"]


def test_error_histogram_stacks_every_splits_errors_on_shared_bins(relu_model):
    ax = plot.error_histogram(relu_model, SPLITS, bins=7).axes[0]
    train, test = ax.containers
    assert sum(bar.get_height() for bar in train) == 45 and len(train) == len(test) == 7
    errors = np.concatenate([y - relu_model.predict(X) for X, y in SPLITS.values()])
    counts, _ = np.histogram(errors, bins=7)
    stacked = [bar.get_y() + bar.get_height() for bar in test]
    assert np.allclose(stacked, counts)  # the test bars sit on the train bars: together, every row's error
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train", "test"]


def test_residuals_are_drawn_against_each_input_and_the_prediction_per_split():
    X = RNG.normal(size=(40, 2))
    model = Quadratic()
    y = model.predict(X) + RNG.normal(size=40)
    figure = plot.residuals(model, {"train": (X[:30], y[:30]), "test": (X[30:], y[30:])}, x_names=["a", "b"])
    assert [ax.get_xlabel() for ax in figure.axes] == ["a", "b", "prediction"]
    for j, ax in enumerate(figure.axes):
        for collection, rows in zip(ax.collections, (slice(0, 30), slice(30, 40))):
            P = model.predict(X[rows])
            against = P if j == 2 else X[rows, j]
            assert np.allclose(collection.get_offsets(), np.c_[against, y[rows] - P])


def test_the_training_record_draws_the_penalty_term_and_alpha_ticked_where_reestimated():
    model = NeuralRegressor(alpha="bayes", n_averaged=1, max_iter=40, random_state=0).fit(X1, y1)
    loss_ax, penalty_ax, alpha_ax = plot.training_record(model).axes
    run = model.fitted_.runs[0]
    penalty, ticks = penalty_ax.get_lines()
    assert np.allclose(penalty.get_ydata(), np.array(run.loss_curve) - np.array(run.data_curve))
    assert np.array_equal(ticks.get_xdata(), np.array(run.reestimations) + 1)
    alpha, alpha_ticks = alpha_ax.get_lines()
    assert np.array_equal(alpha.get_ydata(), run.alpha_curve) and alpha_ticks.get_label() == plot.REESTIMATED_LABEL
    assert np.array_equal(loss_ax.get_lines()[0].get_ydata(), run.data_curve)


def test_a_penalty_of_zero_keeps_a_linear_axis(relu_model):
    model = NeuralRegressor(4, alpha=0.0, max_iter=10, random_state=0).fit(X1, y1)
    _, penalty_ax, alpha_ax = plot.training_record(model).axes
    assert penalty_ax.get_yscale() == alpha_ax.get_yscale() == "linear"
    assert plot.training_record(relu_model).axes[2].get_yscale() == "log"


def test_the_curve_rings_the_test_rows_and_draws_the_band_of_an_ensemble():
    from mlpfit import EnsembleRegressor

    model = EnsembleRegressor(NeuralRegressor(6, max_iter=20), n_estimators=2, random_state=0).fit(*SPLITS["train"])
    ax = plot.curve(model, SPLITS, x_names=["dose"], y_names=["response"]).axes[0]
    data, band, rings = ax.collections
    assert np.allclose(data.get_offsets(), np.c_[X1[:, 0], y1])
    assert np.allclose(rings.get_offsets(), np.c_[X1[45:, 0], y1[45:]]) and rings.get_label() == "test rows"
    lower, upper = model.predict_interval(X1[:, :1], coverage=plot.INTERVAL_COVERAGE)
    assert band.get_paths()[0].vertices[:, 1].min() <= lower.min()
    assert ax.get_title() == "Fitted curve" and ax.get_xlabel() == "dose"


def test_the_curve_of_several_inputs_is_refused_and_response_draws_partial_dependence_instead():
    X = RNG.normal(size=(30, 2))
    splits = {"train": (X, Quadratic().predict(X))}
    with pytest.raises(ValueError, match="takes 2 inputs: plot.partial_dependence draws each"):
        plot.curve(Quadratic(), splits)
    assert {ax.get_title() for ax in plot.response(Quadratic(), splits).axes} == {"Partial dependence"}
    assert plot.response(WithInterval(), SPLITS).axes[0].get_title() == "Fitted curve"


def test_partial_dependence_averages_the_model_over_the_rows_as_one_input_moves():
    X = RNG.normal(size=(300, 2))
    figure = plot.partial_dependence(Quadratic(), {"train": (X[:250], X[:250, 0]), "test": (X[250:], X[250:, 0])})
    a_ax, b_ax = figure.axes
    rows = np.sort(np.random.default_rng(0).choice(300, plot.PARTIAL_DEPENDENCE_ROWS, replace=False))
    sample = X[rows]  # more rows than PARTIAL_DEPENDENCE_ROWS: a fixed sample is averaged over
    grid, averaged = a_ax.get_lines()[0].get_data()
    assert len(grid) == plot.PARTIAL_DEPENDENCE_POINTS and grid[0] == X[:, 0].min() and grid[-1] == X[:, 0].max()
    assert np.allclose(averaged, 2 * grid + np.mean(sample[:, 1] ** 2))
    grid, averaged = b_ax.get_lines()[0].get_data()
    assert np.allclose(averaged, 2 * np.mean(sample[:, 0]) + grid**2)
    assert np.allclose(b_ax.get_lines()[1].get_xdata(), X[:, 1])  # the rug: every row's value


def test_partial_dependence_on_dates_and_text_renders(tmp_path):
    from mlpfit._columns import RawInputs

    n = 40
    day = np.datetime64("2024-03-01") + RNG.integers(0, 100, n).astype("timedelta64[D]")
    region = np.array(RNG.choice(["north", "south"], n), dtype=object)
    a = RNG.normal(size=n)
    y = a + (region == "north") + (day - day.min()).astype(float) / 50
    X = RawInputs((a, day, region))
    model = NeuralRegressor(5, max_iter=20, random_state=0).fit(X, y)
    figure = plot.partial_dependence(model, {"train": (X, y)}, x_names=["a", "day", "region"])
    region_ax = figure.axes[2]
    categories, averaged = region_ax.get_lines()[0].get_data()
    assert [label.get_text() for label in region_ax.get_xticklabels()] == ["north", "south"]
    north = RawInputs((a, day, np.full(n, "north", dtype=object)))
    assert averaged[0] == pytest.approx(model.predict(north).mean())
    assert plot.png_bytes(figure).startswith(b"\x89PNG\r\n\x1a\n")
    assert plot.png_bytes(plot.residuals(model, {"train": (X, y)})).startswith(b"\x89PNG\r\n\x1a\n")


def test_the_assessment_figures_need_a_split(relu_model):
    for draw in (plot.regression, plot.error_histogram, plot.residuals, plot.curve, plot.partial_dependence):
        with pytest.raises(ValueError, match="splits must name at least one set of rows"):
            draw(relu_model, {})


DOLLARS = "price $ $"
"""A column name matplotlib would read as mathtext, and fail to parse, were its ``$`` not escaped; the splits,
categories and groups below end so too."""


def _rendered(figure):
    """The texts of ``figure``, drawn on an Agg canvas as a PNG file draws it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    return [text.get_text() for text in figure.findobj(lambda artist: hasattr(artist, "get_text"))]


def test_names_with_dollar_signs_render_as_written(relu_model):
    from mlpfit import CurveBatch
    from mlpfit._columns import RawInputs

    splits = {"train $ $": SPLITS["train"], "test": SPLITS["test"]}
    names = {"x_names": [DOLLARS], "y_names": ["cost $ $"]}
    region = np.array(RNG.choice(["north $ $", "south"], 60), dtype=object)
    X = RawInputs((X1[:, 0], region))
    text_model = NeuralRegressor(4, max_iter=10, random_state=0).fit(X, y1)
    text_names = {"x_names": [DOLLARS, "region $ $"], "y_names": ["cost $ $"]}
    groups = np.where(np.arange(60) < 30, "a $ $", "b")
    batch = CurveBatch(NeuralRegressor(4, max_iter=10, random_state=0), diagnose=False).fit(X1, y1, groups=groups)
    price, train, north = r"price \$ \$", r"train \$ \$", r"north \$ \$"  # shown as written, not as mathtext
    expected = [
        (plot.fit(relu_model, X1, y1, **names), price),
        (plot.regression(relu_model, splits, y_names=names["y_names"]), train),
        (plot.error_histogram(relu_model, splits, y_names=names["y_names"]), train),
        (plot.residuals(relu_model, splits, **names), price),
        (plot.curve(relu_model, splits, **names), price),
        (plot.partial_dependence(relu_model, splits, **names), price),
        (plot.fit(text_model, X, y1, **text_names), north),
        (plot.residuals(text_model, {"train": (X, y1)}, **text_names), north),
        (plot.partial_dependence(text_model, {"train": (X, y1)}, **text_names), north),
        (plot.curves(batch, X1, y1, groups, x_name=DOLLARS, y_name="cost $ $"), r"a \$ \$"),
    ]
    for figure, text in expected:
        assert text in " ".join(_rendered(figure))
