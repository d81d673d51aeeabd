"""Shared by the command-line tests: ``mlpfit`` run in a child process, as a user runs it."""

import os
import subprocess
import sys

import pytest

import mlpfit


def run_as_a_command(*args, cwd=None):
    """``mlpfit ARGS`` in a child process; only for the one smoke test each command has.

    The child imports the mlpfit this process imported, wherever ``cwd`` is (a relative PYTHONPATH would not).
    """
    source = os.path.dirname(os.path.dirname(mlpfit.__file__))
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mlpfit.cli", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture
def mlpfit_command():
    """:func:`run_as_a_command`."""
    return run_as_a_command
