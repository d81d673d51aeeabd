"""A fit that needs more memory than the machine has is refused with the figure, before anything is allocated."""

import numpy as np
import pytest

from mlpfit import NeuralRegressor, _memory
from mlpfit.cli import main

X = np.linspace(0, 1, 50)[:, None]
y = np.sin(3 * X[:, 0])


def test_memory_needed_counts_units_rows_and_parameters():
    # 1-4-1 network: 13 parameters, 5 units past the input, 50 rows
    assert _memory.memory_needed("lbfgs", 50, (1, 4, 1)) == 8 * (3 * 50 * 5 + _memory.LBFGS_VECTORS * 13)
    assert _memory.memory_needed("lm", 50, (1, 4, 1)) == 8 * (
        3 * 50 * 5 + _memory.LBFGS_VECTORS * 13 + 50 * 13 + 2 * 13**2
    )


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
