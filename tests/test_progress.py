"""The progress bar: drawn only on a terminal outside CI, fed by the Monitor, silent in copies sent to workers."""

import io
import pickle
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
    """stderr as a terminal, outside CI, with the bar shown at once.

    Called inside the test itself: pytest's output capture resets sys.stderr after fixtures run.
    """
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(_progress, "SHOW_AFTER_SECONDS", 0.0)
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_bar_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert _progress.bar_wanted(Terminal())
    assert not _progress.bar_wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not _progress.bar_wanted(Terminal())


def test_verbose_fit_advances_the_bar_per_iteration_with_both_losses(monkeypatch):
    terminal = as_terminal(monkeypatch)
    callbacks = []

    class Recorded(_progress.ProgressCallback):
        def __init__(self, bar):
            super().__init__(bar)
            callbacks.append(self)

    monkeypatch.setattr(_progress, "ProgressCallback", Recorded)
    model = NeuralRegressor(
        max_iter=25, early_stopping=True, n_iter_no_change=100, n_averaged=1, random_state=0, verbose=True
    )
    model.fit(X, y)
    (callback,) = callbacks
    assert callback.bar.n == len(model.loss_curve_) and callback.bar.total == 25
    assert "loss=" in callback.bar.postfix and "validation loss=" in callback.bar.postfix
    assert "/25" in terminal.getvalue()


@pytest.mark.parametrize("verbose", [False, 2])
def test_no_bar_unless_verbose_is_1(monkeypatch, verbose, capsys):
    terminal = as_terminal(monkeypatch)
    NeuralRegressor(max_iter=5, random_state=0, verbose=verbose).fit(X, y)
    assert terminal.getvalue() == ""
    printed = capsys.readouterr().out
    assert ("Iteration 5, loss =" in printed) == (verbose == 2)


def test_no_bar_in_ci(monkeypatch):
    terminal = as_terminal(monkeypatch)
    monkeypatch.setenv("CI", "1")
    NeuralRegressor(max_iter=5, random_state=0, verbose=1).fit(X, y)
    assert terminal.getvalue() == ""


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
