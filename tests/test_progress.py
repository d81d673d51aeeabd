"""The progress bar: drawn only on a terminal outside CI, fed by the Monitor, silent in copies sent to workers.

The bar's library is made to draw every step at once (tqdm otherwise waits seconds and throttles redraws);
what the tests read is what a terminal would show.
"""

import io
import pickle
import re
import sys

import numpy as np
import pytest

from mlpfit import NeuralRegressor, _progress

pytest.importorskip("tqdm")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = np.linspace(0, 1, 30)[:, None]
y = X[:, 0] ** 2


class Terminal(io.StringIO):
    def isatty(self):
        return True


def as_terminal(monkeypatch):
    """stderr as a terminal, outside CI, with every step of a bar drawn at once.

    Called inside the test itself: pytest's output capture resets sys.stderr after fixtures run.
    """
    import tqdm

    class EveryStep(tqdm.tqdm):
        """tqdm drawing from the first step and at every step, not after seconds: an untimed test."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "delay": 0, "mininterval": 0, "miniters": 1})

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(tqdm, "tqdm", EveryStep)
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


@pytest.mark.parametrize("where, drawn", [("terminal", True), ("pipe", False), ("terminal in CI", False)])
def test_bar_only_on_a_terminal_outside_ci(monkeypatch, where, drawn):
    stderr = as_terminal(monkeypatch)
    if where == "pipe":
        stderr = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stderr)
    if where == "terminal in CI":
        monkeypatch.setenv("CI", "true")
    NeuralRegressor(max_iter=5, random_state=0, verbose=1).fit(X, y)
    assert bool(re.search(r"\| *\d+/\d+ \[", stderr.getvalue())) == drawn  # tqdm's "| 3/10 ["


def test_verbose_fit_advances_the_bar_per_iteration_with_both_losses(monkeypatch):
    # catches a bar that stops short of the fit's iterations, counts to another total, or drops a loss
    terminal = as_terminal(monkeypatch)
    model = NeuralRegressor(
        max_iter=25, early_stopping=True, n_iter_no_change=100, n_averaged=1, random_state=0, verbose=True
    )
    model.fit(X, y)
    drawn = terminal.getvalue()
    assert f" {len(model.loss_curve_)}/25 " in drawn and f" {len(model.loss_curve_) + 1}/25 " not in drawn
    assert "loss=" in drawn and "validation loss=" in drawn


@pytest.mark.parametrize("verbose", [False, 2])
def test_no_bar_unless_verbose_is_1(monkeypatch, verbose, capsys):
    terminal = as_terminal(monkeypatch)
    NeuralRegressor(max_iter=5, random_state=0, verbose=verbose).fit(X, y)
    assert terminal.getvalue() == ""
    printed = capsys.readouterr().out
    assert ("Iteration 5, loss =" in printed) == (verbose == 2)


def test_copies_sent_to_other_processes_are_silent():
    class Bar:
        updates = 0

        def set_postfix(self, *args, **kwargs):
            pass

        def update(self):
            Bar.updates += 1

    callback = _progress.ProgressCallback(Bar())
    callback(1, 0.5, None)
    copy = pickle.loads(pickle.dumps(callback))
    copy(2, 0.4, None)
    assert Bar.updates == 1 and copy.bar is None
