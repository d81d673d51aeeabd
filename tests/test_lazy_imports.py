"""Lazy imports: ``import mlpfit`` and the command line's ``--version`` and ``--help`` load no heavy library, and
nothing a user reaches changes (the timings are in ``benchmarks/startup.py``)."""

import ast
import os
import subprocess
import sys

import numpy as np
import pytest

import mlpfit
from mlpfit.cli import SUMMARIES, build_parser

HEAVY = ("numpy", "scipy", "sklearn", "joblib", "matplotlib", "pandas")


def modules_loaded_by(code):
    """The heavy top-level packages in ``sys.modules`` after a fresh interpreter runs ``code``."""
    source = os.path.dirname(os.path.dirname(mlpfit.__file__))
    report = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    env = {**os.environ, "PYTHONPATH": source}
    result = subprocess.run([sys.executable, "-c", report], env=env, capture_output=True, text=True, check=True)
    return ast.literal_eval(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import mlpfit",
        "from mlpfit.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass",
        "from mlpfit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    ],
    ids=["import mlpfit", "--version", "--help"],
)
def test_no_heavy_library_is_imported_until_needed(code):
    assert modules_loaded_by(code) == []


def test_a_public_name_imports_what_it_needs():
    loaded = modules_loaded_by("from mlpfit import NeuralRegressor")
    assert {"numpy", "scipy", "sklearn"} <= set(loaded) and "matplotlib" not in loaded


def test_every_public_name_resolves_and_is_listed():
    for name in mlpfit.__all__:
        assert getattr(mlpfit, name) is not None
    assert set(mlpfit.__all__) <= set(dir(mlpfit))
    assert mlpfit.NeuralRegressor.__module__ == "mlpfit.estimator" and mlpfit.io.load is mlpfit.load
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        _ = mlpfit.no_such_name


def test_the_summary_table_agrees_with_each_commands_own_parser():
    # the top-level help lists each command's summary: the table's, or the module's when that command is built
    listed = build_parser([]).format_help()
    assert all(summary.split()[0] in listed for summary in SUMMARIES.values())
    for name in SUMMARIES:
        assert build_parser([name]).format_help() == listed, name


def test_reading_a_model_file_loads_neither_scikit_learn_nor_scipy_optimize(tmp_path):
    # mlpfit info reads files without building an estimator; the solvers' optimiser is imported where it runs
    from mlpfit import NeuralRegressor, save

    rng = np.random.default_rng(0)
    save(
        NeuralRegressor(5, max_iter=5, random_state=0).fit(rng.normal(size=(20, 1)), rng.normal(size=20)),
        tmp_path / "m.npz",
    )
    code = (
        "import sys\nfrom mlpfit.cli import main\n"
        f"main(['info', {str(tmp_path / 'm.npz')!r}])\n"
        "print([m for m in sys.modules if m.startswith(('sklearn', 'scipy.optimize'))])"
    )
    source = os.path.dirname(os.path.dirname(mlpfit.__file__))
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": source},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "[]"
