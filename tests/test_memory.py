"""A fit that needs more memory than the machine has is refused with the figure, before anything is allocated; a fit's
own memory does not grow with the rows beyond the data."""

import warnings
from functools import partial

import numpy as np
import pytest

from mlpfit import NeuralRegressor, _memory
from mlpfit._network import Architecture
from mlpfit.cli import main
from mlpfit.estimator import start_training
from mlpfit.solvers import SOLVERS, SolverSettings, TrainingProblem

X = np.linspace(0, 1, 50)[:, None]
y = np.sin(3 * X[:, 0])


def test_memory_needed_counts_rows_one_chunk_of_units_and_parameters():
    # 1-4-1 network: 13 parameters, 5 units past the input, 50 rows (fewer than a chunk), 13 LM factors per row
    rows = 50 * (1 + 1 + _memory.PER_ROW_NUMBERS)
    assert _memory.memory_needed("lbfgs", 50, (1, 4, 1)) == 8 * (rows + 3 * 50 * 5 + _memory.LBFGS_VECTORS * 13)
    assert _memory.memory_needed("lm", 50, (1, 4, 1)) == 8 * (
        rows + 3 * 50 * 5 + _memory.LBFGS_VECTORS * 13 + 50 * 13 + 2 * 13**2
    )


def _table_rows(n=200_000, n_features=8):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, n_features))
    return X, X.sum(axis=1) + rng.normal(size=n)


@pytest.mark.parametrize("solver", ["lm", "lbfgs", "adam"])
def test_memory_needed_is_a_lower_bound_within_twice_a_fits_peak(solver):
    # every solver's sums run over row chunks, so a fit needs its copy of the rows and little more: an estimate that
    # counted every unit on every row (ten times this) would refuse fits that run, one that missed the copy would
    # let through fits that do not
    X, y = _table_rows()
    model = NeuralRegressor((20,), "tanh", solver=solver, alpha=1e-3, n_averaged=1, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration neither converges nor fits
        peak = _traced_peak(partial(model.fit, X, y))
    needed = _memory.memory_needed(solver, len(X), (8, 20, 1))
    assert needed <= peak <= 2 * needed


def test_a_billion_units_are_refused_with_the_memory_figure():
    with pytest.raises(
        ValueError, match=r"layer sizes \(1, 1000000000, 1\) .* needs about [\d,.]+ GiB; [\d,.]+ [GM]iB is available"
    ):
        NeuralRegressor(hidden_layer_sizes=(10**9,)).fit(X, y)


def test_the_limit_is_the_memory_available(monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: 2**20)
    with pytest.raises(ValueError, match=r"needs about 1.7 MiB; 1.0 MiB is available"):
        NeuralRegressor(hidden_layer_sizes=(1000,)).fit(X, y)
    monkeypatch.setattr(_memory, "available_memory", lambda: 2**30)
    NeuralRegressor(hidden_layer_sizes=(1000,), max_iter=2).fit(X, y)


def test_the_command_line_refuses_it_in_one_line(tmp_path, capsys):
    np.savetxt(tmp_path / "d.csv", np.c_[X, y], delimiter=",", header="x,y", comments="")
    assert main(f"fit {tmp_path / 'd.csv'} --x x --y y -o {tmp_path / 'm.npz'} --hidden 1000000000 -q".split()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB" in err and not (tmp_path / "m.npz").exists()


def _traced_peak(work):
    """Bytes ``work()`` allocates at its peak beyond what was live before it (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _sine_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, np.sin(3 * X) + 0.1 * rng.normal(size=(n, 1))


@pytest.mark.parametrize("solver", ["lm", "lbfgs", "adam"])
def test_a_solver_needs_no_more_memory_for_more_rows(solver):
    # Every sum over the rows runs in row chunks, so a solver's peak does not grow with the rows; Adam's
    # epoch order is one index per row, which the allowance admits. One full-data array of the hidden
    # units' activations (24 MiB at the larger size) would fail this.
    settings = SolverSettings(
        max_iter=2, tol=0.0, n_iter_no_change=10, learning_rate_init=1e-3, momentum=0.9, batch_size=1000
    )
    arch = Architecture((1, 21, 1), "tanh")
    theta0 = np.random.default_rng(1).normal(size=arch.n_params)
    peaks = {}
    for n in (50_000, 200_000):
        problem = TrainingProblem(arch, *_sine_rows(n), alpha=1e-3)
        peaks[n] = _traced_peak(partial(SOLVERS[solver], problem, theta0, settings, np.random.RandomState(0)))
    row_index = 8 * (200_000 - 50_000) if solver == "adam" else 0
    assert peaks[200_000] - peaks[50_000] < row_index + 2**20


def test_lbfgs_and_adam_fits_of_a_million_rows_peak_within_64_mib_of_lms():
    # one full-data array of the hidden units' activations would be 61 MiB on top of the data's copies
    X, Y = _sine_rows(10**6)
    peaks = {}
    for solver, options in [("lm", {}), ("lbfgs", {}), ("adam", {"batch_size": 4096})]:
        model = NeuralRegressor((8,), "tanh", solver=solver, alpha=1e-3, n_averaged=1, max_iter=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one iteration neither converges nor fits
            peaks[solver] = _traced_peak(partial(model.set_params(**options).fit, X, Y[:, 0]))
    assert max(peaks["lbfgs"], peaks["adam"]) < peaks["lm"] + 64 * 2**20


def test_a_fit_sets_up_one_copy_of_its_rows():
    # the weighted set is the fit's one copy, standardised in place, and the check after the fit keeps a sample of
    # it; a second copy of the rows (sorted then merged, or standardised beside the weighted set) would fail this
    X, y = _table_rows()
    model = NeuralRegressor((8,), "tanh", solver="lm", alpha=1e-3, n_averaged=1, max_iter=1, random_state=0)
    assert _traced_peak(partial(start_training, model, X, y)) < 2 * (X.nbytes + y.nbytes)


def _nll_excess(n):
    """Bytes a ``loss="gaussian_nll"`` fit of ``n`` rows peaks at beyond the same squared-error fit: the variance
    head's fit and what it reads (the means' hidden units and residuals)."""
    X, Y = _sine_rows(n)
    peaks = {}
    for loss in ("squared_error", "gaussian_nll"):
        model = NeuralRegressor(
            (8,), "tanh", solver="lm", loss=loss, alpha=1e-3, n_averaged=1, max_iter=1, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one iteration neither converges nor fits
            peaks[loss] = _traced_peak(partial(model.fit, X, Y[:, 0]))
    return peaks["gaussian_nll"] - peaks["squared_error"]


def test_the_variance_head_needs_no_more_memory_for_more_rows():
    # the head's loss and gradient run over row chunks, computing each chunk's hidden units and residuals from
    # the means' network; the hidden units of every row at once (9 MiB more at the larger size) would fail this
    assert _nll_excess(200_000) - _nll_excess(50_000) < 2**20


def test_a_gaussian_nll_fit_of_a_million_rows_peaks_within_16_mib_of_a_squared_error_fit():
    # the hidden units of every row alone would be 61 MiB
    assert _nll_excess(10**6) < 16 * 2**20
