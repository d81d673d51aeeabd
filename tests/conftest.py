"""Shared by the command-line tests: ``mlpfit`` run in child processes, as a user runs it."""

import os
import subprocess
import sys

import pytest

import mlpfit


def _run_together(runs, cwd=None, timeout=300):
    """``{name: args}`` -> ``{name: subprocess.CompletedProcess}`` of ``mlpfit ARGS``, the children run at once.

    Each child spends most of its time importing, so starting them together saves most of the wait.
    They import the mlpfit this process imported, wherever ``cwd`` is (a relative PYTHONPATH would not).
    """
    source = os.path.dirname(os.path.dirname(mlpfit.__file__))
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
    children = {
        name: subprocess.Popen(
            [sys.executable, "-m", "mlpfit.cli", *args],
            cwd=cwd,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name, args in runs.items()
    }
    results = {}
    for name, child in children.items():
        stdout, stderr = child.communicate(timeout=timeout)
        results[name] = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    return results


@pytest.fixture(scope="session")
def run_as_commands():
    """:func:`_run_together`: for the smoke tests only; every other command-line test calls ``main`` in-process."""
    return _run_together


@pytest.fixture
def batch_sizes(monkeypatch):
    """A function that starts counting the batches Levenberg-Marquardt solves: it returns the list their sizes
    are appended to as ``mlpfit.solvers.lm.solve_batch`` is called (every LM fit calls it, alone as a batch of one)."""
    from mlpfit.solvers import lm

    def start():
        sizes, solve_batch = [], lm.solve_batch

        def counting(batch, theta0, settings):
            sizes.append(len(batch))
            return solve_batch(batch, theta0, settings)

        monkeypatch.setattr(lm, "solve_batch", counting)
        return sizes

    return start
