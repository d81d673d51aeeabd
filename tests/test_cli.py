"""The mlpfit command line: fit, predict, plot and info as a user runs them, and every bad input refused cleanly."""

import contextlib
import csv
import io
import os
import signal
import sys

import numpy as np
import pytest
from _peak import run_measured

import mlpfit
from mlpfit.cli import fit as fit_command
from mlpfit.cli import main
from mlpfit.datasets import make_origin

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
DOSE = RNG.uniform(0, 10, 40)
RESPONSE = np.sqrt(DOSE) + 0.05 * RNG.normal(size=40)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def data(tmp_path):
    return write_csv(
        tmp_path / "data.csv",
        ["dose", "response", "batch"],
        [[d, r, f"b{i % 3}"] for i, (d, r) in enumerate(zip(DOSE, RESPONSE))],
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """``mlpfit fit`` run once, in-process: its directory, exit code and report."""
    folder = tmp_path_factory.mktemp("cli")
    write_csv(folder / "data.csv", ["dose", "response"], zip(DOSE, RESPONSE))
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        code = main(
            (
                f"fit {folder / 'data.csv'} --x dose --y response --seed 0 --max-iter 50 "
                f"--early-stopping -o {folder / 'model.npz'} --plot {folder / 'fit.png'}"
            ).split()
        )
    return folder, code, report.getvalue()


# --- one smoke test per command, run as a user runs it; every other test calls main() in-process ---


SMOKE = {
    "fit": (
        "fit data.csv --x dose --y response --max-iter 5 -o smoke.npz".split(),
        lambda folder, out: "model written to smoke.npz" in out and mlpfit.load(folder / "smoke.npz").n_iter_ <= 5,
    ),
    "predict": (
        ["predict", "model.npz", "data.csv"],
        lambda folder, out: out.startswith("dose,response_predicted,in_range\n"),
    ),
    "plot": (
        ["plot", "model.npz", "data.csv", "-o", "smoke.png"],
        lambda folder, out: (folder / "smoke.png").read_bytes().startswith(PNG_SIGNATURE),
    ),
    "diagnose": (["diagnose", "model.npz", "data.csv"], lambda folder, out: out.startswith("Diagnosis: ")),
    "report": (
        ["report", "model.npz", "data.csv", "-o", "smoke.html"],
        lambda folder, out: (
            out == "report written to smoke.html\n"
            and (folder / "smoke.html").read_text().startswith("<!DOCTYPE html>")
        ),
    ),
    "info": (["info", "model.npz"], lambda folder, out: "NeuralRegressor" in out),
    "export": (
        ["export", "model.npz", "-o", "smoke.py"],
        lambda folder, out: "def predict(X)" in (folder / "smoke.py").read_text(),
    ),
    "demo": (["demo"], lambda folder, out: "RMSE against the true sqrt" in out),
}
"""Command -> (arguments, a check of its output and files)."""


@pytest.fixture(scope="module")
def smoke_runs(fitted, run_as_commands):
    """Every command's smoke run, the child processes started together."""
    folder, _, _ = fitted
    return folder, run_as_commands({command: argv for command, (argv, _) in SMOKE.items()}, cwd=folder)


@pytest.mark.parametrize("command", SMOKE)
def test_each_command_runs_as_a_user_runs_it(command, smoke_runs):
    # catches what in-process calls cannot: the entry point, imports in a fresh interpreter, the exit code
    folder, runs = smoke_runs
    result = runs[command]
    assert result.returncode in ((0, 3) if command == "diagnose" else (0,)), (
        result.stderr
    )  # diagnose: 3 = problems found
    assert SMOKE[command][1](folder, result.stdout) and "Traceback" not in result.stderr


def test_every_command_has_a_smoke_test():
    from mlpfit.cli import COMMANDS

    assert {command.__name__.rsplit(".", 1)[-1] for command in COMMANDS} == set(SMOKE)


# --- fit, predict, plot and info in-process ------------------------------------------------------


def test_fit_reports_and_writes_the_model_and_a_png(fitted):
    folder, code, report = fitted
    assert code == 0
    model = mlpfit.load(folder / "model.npz")
    for expected in (
        "rows used: 40 of 40",
        f"solver: {model.summary_.solver}",
        "iterations",
        "response: training RMSE",
        "R^2",
        "validation RMSE: ",
        "fit time",
        f"model written to {folder / 'model.npz'}",
    ):
        assert expected in report
    png = (folder / "fit.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    import matplotlib.image

    assert matplotlib.image.imread(folder / "fit.png").ndim == 3
    assert model.n_iter_ <= 50 and model.early_stopping and model.random_state == 0


def test_predict_equals_the_python_api(fitted, tmp_path):
    folder, _, _ = fitted
    new = write_csv(tmp_path / "new.csv", ["id", "dose"], [[i, x] for i, x in enumerate([0.5, 2.0, 7.25])])
    assert main(["predict", str(folder / "model.npz"), new, "-o", str(tmp_path / "predictions.csv")]) == 0
    with open(tmp_path / "predictions.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["dose", "response_predicted", "in_range"]
    expected = mlpfit.load(folder / "model.npz").predict(np.array([[0.5], [2.0], [7.25]]))
    assert np.array_equal(np.array(rows[1:], dtype=float)[:, 1], expected)


def test_plot_draws_a_saved_model_and_info_describes_it(fitted, tmp_path, capsys):
    folder, _, _ = fitted
    assert main(["plot", str(folder / "model.npz"), str(folder / "data.csv"), "-o", str(tmp_path / "again.png")]) == 0
    assert (tmp_path / "again.png").read_bytes().startswith(PNG_SIGNATURE)
    capsys.readouterr()
    assert main(["info", str(folder / "model.npz")]) == 0
    info = capsys.readouterr().out
    width = mlpfit.load(folder / "model.npz").architecture_.layer_sizes[1]
    for expected in (
        f"version {mlpfit.io.FORMAT_VERSION}",
        "NeuralRegressor",
        "inputs (1): dose",
        "outputs (1): response",
        f"layers: 1 -> {width} -> 1, activation relu",
        "training: ",
    ):
        assert expected in info


def test_predict_prints_csv_to_stdout_for_several_inputs_and_outputs(tmp_path, capsys):
    X = RNG.normal(size=(30, 2))
    Y = np.c_[X[:, 0] + X[:, 1], X[:, 0] * X[:, 1]]
    data = write_csv(tmp_path / "d.csv", ["a", "b", "u", "v"], np.c_[X, Y])
    model_path = str(tmp_path / "m.npz")
    assert (
        main(f"fit {data} --x a --x b --y u --y v --hidden 6,6 --max-iter 20 --seed 1 -q -o {model_path}".split()) == 0
    )
    assert capsys.readouterr().out == ""
    assert main(["predict", model_path, data]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["a", "b", "u_predicted", "v_predicted", "in_range"]
    assert np.array_equal(np.array(rows[1:], dtype=float)[:, 2:4], mlpfit.load(model_path).predict(X))


def test_model_options_reach_the_fitted_model(data, tmp_path):
    # catches an option dropped, parsed wrong or passed to the wrong parameter on its way to NeuralRegressor
    def fitted_params(*options):
        model = str(tmp_path / "m.npz")
        assert main(["fit", data, "--x", "dose", "--y", "response", "-o", model, "--max-iter", "1", *options]) == 0
        return mlpfit.load(model).get_params()

    params = fitted_params(
        "--hidden",
        "20,20",
        "--activation",
        "tanh",
        "--no-standardize",
        "--early-stopping",
        "--seed",
        "3",
        "--restarts",
        "2",
        "--averaged",
        "3",
        "--alpha",
        "0.5",
        "--quiet",
    )
    assert (
        params.items()
        >= {
            "hidden_layer_sizes": (20, 20),
            "activation": "tanh",
            "standardize": False,
            "early_stopping": True,
            "random_state": 3,
            "n_restarts": 2,
            "n_averaged": 3,
            "alpha": 0.5,
            "verbose": 0,
            "max_iter": 1,
        }.items()
    )
    params = fitted_params("--alpha", "bayes", "--hidden", "auto", "--tol", "auto", "-q")
    assert {k: params[k] for k in ("alpha", "hidden_layer_sizes", "tol")} == {
        "alpha": "bayes",
        "hidden_layer_sizes": "auto",
        "tol": "auto",
    }
    parameters = mlpfit.NeuralRegressor().get_params()
    assert all(param in parameters for param, _ in fit_command.MODEL_OPTIONS.values())  # every flag has a target


def test_dropna_drops_rows_with_empty_cells(tmp_path, capsys):
    rows = [[d, r] for d, r in zip(DOSE, RESPONSE)]
    rows[3][1], rows[7][0] = "", "NaN"
    data = write_csv(tmp_path / "d.csv", ["dose", "response"], rows)
    assert main(f"fit {data} --x dose --y response --max-iter 5 --dropna -o {tmp_path / 'm.npz'}".split()) == 0
    assert "rows used: 38 of 40 (2 dropped for empty or NaN cells)" in capsys.readouterr().out


def test_semicolon_csv_and_parquet_are_read(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("dose;response\n" + "".join(f"{d};{r}\n" for d, r in zip(DOSE, RESPONSE)))
    assert main(f"fit {path} --x dose --y response --max-iter 5 -q -o {tmp_path / 'm.npz'}".split()) == 0
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pandas.DataFrame({"dose": DOSE, "response": RESPONSE}).to_parquet(tmp_path / "d.parquet")
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "d.parquet"), "-o", str(tmp_path / "p.csv")]) == 0
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 41


def test_demo_writes_its_plot(tmp_path, capsys):
    assert main(["demo", "--plot", str(tmp_path / "origin.png")]) == 0
    assert (tmp_path / "origin.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "plot written to" in capsys.readouterr().out


def test_ensemble_fit_predicts_interval_columns_equal_to_the_python_api(tmp_path, capsys):
    data = write_csv(tmp_path / "data.csv", ["dose", "response"], zip(DOSE, RESPONSE))
    model_path = str(tmp_path / "ensemble.npz")
    assert (
        main(
            (
                f"fit {data} --x dose --y response --ensemble 3 --noise homoscedastic --hidden 5 "
                f"--seed 0 -o {model_path}"
            ).split()
        )
        == 0
    )
    report = capsys.readouterr().out
    assert "ensemble: 3 networks, noise homoscedastic" in report and "member 2: solver" in report
    assert main(f"predict {model_path} {data} --coverage 0.9 -o {tmp_path / 'p.csv'}".split()) == 0
    with open(tmp_path / "p.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["dose", "response_predicted", "response_lower", "response_upper", "in_range"]
    model = mlpfit.load(model_path)
    assert isinstance(model, mlpfit.EnsembleRegressor) and len(model.estimators_) == 3
    lower, upper = model.predict_interval(DOSE[:, None], 0.9)
    table = np.array(rows[1:], dtype=float)
    assert np.array_equal(table[:, 2], lower) and np.array_equal(table[:, 3], upper)
    assert np.all(table[:, 2] < table[:, 1]) and np.all(table[:, 1] < table[:, 3])
    diagnosis = mlpfit.diagnose(model, DOSE[:, None], RESPONSE)  # the ensemble as a whole, members labelled
    assert main(["diagnose", model_path, data]) == (0 if diagnosis.ok else 3)
    assert capsys.readouterr().out == f"{diagnosis}\n"
    assert main(["info", model_path]) == 0
    assert "ensemble: 3 networks" in capsys.readouterr().out


def test_fit_and_info_show_the_plan_the_model_ran(fitted, capsys):
    # catches a report or info that drops the plan, or shows another than the fit followed
    folder, _, report = fitted
    model = mlpfit.load(folder / "model.npz")
    assert f"plan: {model.summary_.plan} (" in report and "early stopping" in model.summary_.plan
    assert main(["info", str(folder / "model.npz")]) == 0
    assert str(model.plan_) in capsys.readouterr().out


def test_fit_report_includes_the_diagnosis(fitted):
    _, _, report = fitted
    assert "Diagnosis: " in report


def test_fit_and_info_report_how_bayesian_regularisation_moved_the_penalty(fitted, tmp_path, capsys):
    assert "Bayesian penalty" not in fitted[2]  # one input: a fixed penalty
    rng = np.random.default_rng(0)
    rows = [(*x, x[0] * x[1] + 0.1 * rng.normal()) for x in rng.uniform(-1, 1, (60, 2))]
    data = write_csv(tmp_path / "d.csv", ["a", "b", "y"], rows)
    assert main(f"fit {data} --x a,b --y y --alpha bayes --seed 0 -o {tmp_path / 'm.npz'}".split()) == 0
    line = mlpfit.load(tmp_path / "m.npz").fitted_.penalty_line()
    assert line.startswith("Bayesian penalty") and line in capsys.readouterr().out.splitlines()
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert line in capsys.readouterr().out.splitlines()


def test_diagnose_passes_a_good_fit_and_exits_3_on_the_straight_line_trap(tmp_path, capsys):
    X, y = make_origin(random_state=0)
    data = write_csv(tmp_path / "origin.csv", ["x", "y"], zip(X[:, 0], y))
    assert main(f"fit {data} --x x --y y --seed 0 -q -o {tmp_path / 'good.npz'}".split()) == 0
    assert main(["diagnose", str(tmp_path / "good.npz"), data]) == 0
    assert "error" not in capsys.readouterr().out.split("\n")[0]
    broken = [
        "--no-standardize",
        "--init",
        "normal",
        "--solver",
        "sgd",
        "--momentum",
        "0",
        "--learning-rate",
        "1e-6",
        "--max-iter",
        "200",
    ]
    assert main(["fit", data, "--x", "x", "--y", "y", "-q", *broken, "-o", str(tmp_path / "bad.npz")]) == 0
    assert main(["diagnose", str(tmp_path / "bad.npz"), data]) == 3
    out = capsys.readouterr().out
    assert "[error] effectively-linear" in out and "[error] breakpoints-outside-data" in out


@pytest.mark.parametrize("command", "fit predict plot diagnose report info demo".split())
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"example:\n  mlpfit {command}" in capsys.readouterr().out


# --- bad input: exit code 2, one line naming the problem, no traceback, no file written -----


def bad_files(folder):
    """File name -> contents of the broken inputs the error cases below use."""
    good = [[d, r] for d, r in zip(DOSE, RESPONSE)]
    with_text = [row[:] for row in good]
    with_text[4][0] = "12,5 mg"
    with_gaps = [row[:] for row in good]
    with_gaps[2][1] = with_gaps[9][1] = ""
    with_inf = [row[:] for row in good]
    with_inf[5][0] = "inf"
    write_csv(folder / "text.csv", ["dose", "response"], with_text)
    write_csv(folder / "gaps.csv", ["dose", "response"], with_gaps)
    write_csv(folder / "inf.csv", ["dose", "response"], with_inf)
    write_csv(folder / "one.csv", ["dose", "response"], good[:1])
    write_csv(folder / "flat.csv", ["dose", "response"], [[d, 3.0] for d in DOSE])
    write_csv(folder / "good.csv", ["dose", "response"], good)
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "empty.csv").write_text("")
    (folder / "ragged.csv").write_text("dose,response\n1,2\n3\n")
    (folder / "notmodel.npz").write_text("dose,response\n1,2\n")
    (folder / "link.csv").symlink_to("good.csv")
    os.link(folder / "good.csv", folder / "hard.csv")


FIT = "fit --x dose --y response -o out.npz".split()
BAD_INPUTS = {
    "missing data file": (FIT + ["nofile.csv"], "data file nofile.csv does not exist"),
    "unreadable csv": (FIT + ["binary.csv"], "binary.csv is not a readable CSV file"),
    "empty csv": (FIT + ["empty.csv"], "empty.csv is empty"),
    "ragged csv": (FIT + ["ragged.csv"], "ragged.csv line 3 has 1 fields; the header has 2"),
    "missing column": (
        "fit good.csv --x dose --y weight -o out.npz".split(),
        "good.csv has no column 'weight'; available columns: dose, response",
    ),
    "non-numeric value": (
        FIT + ["text.csv"],
        "column 'dose' of text.csv has a non-numeric value '12,5 mg' in row 5 (line 6)",
    ),
    "empty cells": (
        FIT + ["gaps.csv"],
        "gaps.csv has 2 empty or NaN cells in 2 rows (first: column 'response', row 3 (line 4)); pass --dropna",
    ),
    "infinite value": (FIT + ["inf.csv"], "column 'dose' of inf.csv has an infinite value in row 6 (line 7)"),
    "too few rows": (FIT + ["one.csv"], "one.csv has 1 usable row(s); fitting needs at least 2"),
    "constant target": (FIT + ["flat.csv"], "target column 'response' is constant (3 in every row)"),
    "bad parameter": (
        FIT + ["good.csv", "--alpha", "-1"],
        "alpha must be a float in [0, inf) or one of 'auto', 'bayes'; got -1.0",
    ),
    "missing output directory": (
        "fit good.csv --x dose --y response -o no/dir/m.npz".split(),
        "cannot write the model to no/dir/m.npz: directory",
    ),
    "plot into missing directory": (
        FIT + ["good.csv", "--plot", "nodir/fit.png"],
        "cannot write the plot to nodir/fit.png",
    ),
    "not a model": (
        ["predict", "notmodel.npz", "good.csv", "-o", "out.csv"],
        "notmodel.npz is not an mlpfit model file",
    ),
    "missing model": (["info", "nomodel.npz"], "model file nomodel.npz does not exist"),
    "not a model for plot": (["plot", "good.csv", "good.csv", "-o", "out.png"], "good.csv is not an mlpfit model file"),
    "model and plot to one file": (
        "fit good.csv --x dose --y response -o same --plot same".split(),
        "cannot write the plot to same: it is also the model output.",
    ),
    "model over the data": (
        "fit good.csv --x dose --y response -o good.csv".split(),
        "cannot write the model to good.csv: it is also the data input.",
    ),
    "model over the data through a symlink": (
        "fit good.csv --x dose --y response -o link.csv".split(),
        "cannot write the model to link.csv: it is also the data input.",
    ),
    "model over the data through a hard link": (
        "fit good.csv --x dose --y response -o hard.csv".split(),
        "cannot write the model to hard.csv: it is also the data input.",
    ),
    "predictions over the model": (
        ["predict", "notmodel.npz", "good.csv", "-o", "notmodel.npz"],
        "cannot write the predictions to notmodel.npz: it is also the model input.",
    ),
    "plot over the data": (
        ["plot", "notmodel.npz", "good.csv", "-o", "good.csv"],
        "cannot write the plot to good.csv: it is also the data input.",
    ),
    "directory that takes no files": (
        "fit good.csv --x dose --y response -o /proc/m.npz".split(),
        "cannot write the model to /proc/m.npz: directory /proc does not take new files",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line_and_no_file(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad_files(tmp_path)
    before = folder_contents(tmp_path)
    argv, message = BAD_INPUTS[case]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"mlpfit {argv[0]}: error: ") and message in captured.err
    assert folder_contents(tmp_path) == before


def folder_contents(folder):
    """File name -> bytes, for every file in ``folder``."""
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_predict_data_without_the_model_columns_lists_the_available_ones(fitted, tmp_path, capsys):
    folder, _, _ = fitted
    data = write_csv(tmp_path / "other.csv", ["x", "y"], [[1, 2]])
    assert main(["predict", str(folder / "model.npz"), data, "-o", str(tmp_path / "p.csv")]) == 2
    assert "has no column 'dose'; available columns: x, y" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_models_saved_from_python_need_the_columns_named(tmp_path, capsys):
    model = mlpfit.NeuralRegressor(max_iter=10, random_state=0).fit(DOSE[:, None], RESPONSE)
    mlpfit.save(model, tmp_path / "m.npz")
    data = write_csv(tmp_path / "d.csv", ["dose", "response"], zip(DOSE, RESPONSE))
    assert main(["predict", str(tmp_path / "m.npz"), data]) == 2
    assert "saved without column names; name its input columns with --x" in capsys.readouterr().err
    assert main(f"plot {tmp_path / 'm.npz'} {data} --x dose -o {tmp_path / 'p.png'}".split()) == 2
    assert "name its target columns with --y" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "m.npz"), data, "--x", "dose"]) == 0
    assert capsys.readouterr().out.startswith("dose,y0_predicted,in_range\n")
    assert main(f"plot {tmp_path / 'm.npz'} {data} --x dose --y response -o {tmp_path / 'p.png'}".split()) == 0


def test_missing_plot_extra_stops_before_fitting_with_exit_1(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    argv = f"fit {data} --x dose --y response -o {tmp_path / 'm.npz'} --plot {tmp_path / 'f.png'}".split()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mlpfit[plot]'" in err
    assert sorted(os.listdir(tmp_path)) == ["data.csv"]


# --- writing: only at the end, never half, and Ctrl-C or divergence said in one line ---------


@pytest.mark.parametrize("failing", ["report", "plot"])
def test_a_failure_after_the_fit_leaves_the_existing_model_untouched(data, tmp_path, monkeypatch, capsys, failing):
    (tmp_path / "m.npz").write_bytes(b"the user's old model")

    def broken(*args, **kwargs):
        raise ValueError(f"the {failing} failed")

    # No input makes a report or a plot fail once the fit has succeeded: the failure is injected.
    if failing == "report":
        monkeypatch.setattr(fit_command, "REPORT_SECTIONS", [broken])
    else:
        monkeypatch.setattr(fit_command.plot, "fit", broken)
    argv = f"fit {data} --x dose --y response -o {tmp_path / 'm.npz'} --max-iter 5 --plot {tmp_path / 'f.png'}".split()
    assert main(argv) == 2
    assert f"the {failing} failed" in capsys.readouterr().err
    assert (tmp_path / "m.npz").read_bytes() == b"the user's old model" and not (tmp_path / "f.png").exists()


def test_an_overwritten_model_keeps_its_permissions(data, tmp_path):
    (tmp_path / "m.npz").write_bytes(b"old")
    (tmp_path / "m.npz").chmod(0o600)
    assert main(f"fit {data} --x dose --y response -o {tmp_path / 'm.npz'} --max-iter 5 -q".split()) == 0
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o600 and mlpfit.load(tmp_path / "m.npz")


class InterruptedAtTheFirstIteration(io.StringIO):
    """stdout of a ``--verbose`` fit that sends this process a real SIGINT (Ctrl-C) once the fit is running."""

    def write(self, text):
        if text.startswith("Iteration 1,"):
            signal.raise_signal(signal.SIGINT)
        return super().write(text)


def test_ctrl_c_during_a_fit_says_so_in_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    write_csv(tmp_path / "d.csv", ["dose", "response"], zip(DOSE, RESPONSE))
    (tmp_path / "m.npz").write_bytes(b"old")
    before = folder_contents(tmp_path)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own: SIGINT -> KeyboardInterrupt
    try:
        monkeypatch.setattr(sys, "stdout", InterruptedAtTheFirstIteration())
        code = main(
            (
                f"fit {tmp_path / 'd.csv'} --x dose --y response -o {tmp_path / 'm.npz'} --solver "
                "adam --max-iter 1000000 --verbose"
            ).split()
        )
    finally:
        signal.signal(signal.SIGINT, handler)
    assert code == 130
    err = capsys.readouterr().err
    assert err == "mlpfit fit: interrupted; no model written\n"
    assert folder_contents(tmp_path) == before


def test_a_diverged_fit_exits_3_and_says_so(tmp_path, capsys):
    X, y = make_origin(random_state=0)
    data = write_csv(tmp_path / "d.csv", ["x", "y"], zip(X[:, 0], y))
    argv = (
        f"fit {data} --x x --y y -o {tmp_path / 'm.npz'} --solver sgd --no-standardize --learning-rate 1e-3 --seed 0 -q"
    ).split()
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlpfit fit: the fit diverged;")
    assert mlpfit.load(tmp_path / "m.npz").summary_.stop_reason == "diverged"


# --- one reading rule for CSV and Parquet ----------------------------------------------------


def write_parquet(path, **columns):
    import pandas

    pandas.DataFrame(columns).to_parquet(path)
    return str(path)


GOOD_ROWS = [[d, r] for d, r in zip(DOSE, RESPONSE)]


def with_cell(value, row=3):
    rows = [list(r) for r in GOOD_ROWS]
    rows[row][0] = value
    return rows


REFUSED_CELLS = {
    "underscore digits": (
        with_cell("6_369"),
        "column 'dose' of d.csv has a non-numeric value '6_369' in row 4 (line 5)",
    ),
    "full-width digits": (with_cell("１２"), "has a non-numeric value '１２' in row 4"),
    "csv boolean": (with_cell("True"), "has a non-numeric value 'True' in row 4"),
    "csv date": (
        with_cell("2024-03-01"),
        "has a date '2024-03-01' in row 4 (line 5); dates are read only as inputs, in a column of dates.",
    ),
    "csv text": (with_cell("high"), "column 'dose' of d.csv has a non-numeric value 'high' in row 4 (line 5)."),
}


@pytest.mark.parametrize("case", REFUSED_CELLS)
def test_csv_cells_outside_the_reading_rule_are_refused(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows, message = REFUSED_CELLS[case]
    write_csv("d.csv", ["dose", "response"], rows)
    assert main("fit d.csv --x dose --y response -o m.npz".split()) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_an_unterminated_quote_is_refused(tmp_path, capsys):
    (tmp_path / "d.csv").write_text('dose,response\n1,2\n"3,4\n5,6\n')
    assert main(f"fit {tmp_path / 'd.csv'} --x dose --y response -o {tmp_path / 'm.npz'}".split()) == 2
    assert "d.csv is not a readable CSV file: unexpected end of data (line 4)." in capsys.readouterr().err


@pytest.mark.parametrize(
    "values, message",
    [
        (
            np.arange(40) % 2 == 0,
            "column 'dose' of d.parquet has a true/false value True in row 1; only numbers are read.",
        ),
        (np.array(["6_369"] * 40), "has a non-numeric value '6_369' in row 1."),
    ],
    ids=["bool", "underscore text"],
)
def test_parquet_columns_follow_the_same_rule(tmp_path, monkeypatch, capsys, values, message):
    monkeypatch.chdir(tmp_path)
    write_parquet("d.parquet", dose=values, response=RESPONSE)
    assert main("fit d.parquet --x dose --y response -o m.npz".split()) == 2
    assert message in capsys.readouterr().err


def test_parquet_integers_and_missing_values_read_as_in_csv(fitted, tmp_path, capsys):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder, _, _ = fitted
    dose = pandas.array([1, 2, None, 4], dtype="Int64")
    parquet = write_parquet(tmp_path / "d.parquet", dose=dose, text=["a", "b", "c", "d"])
    csv_path = write_csv(tmp_path / "d.csv", ["dose", "text"], [[1, "a"], [2, "b"], ["", "c"], [4, "d"]])
    assert main(["predict", str(folder / "model.npz"), parquet, "--dropna"]) == 0
    from_parquet = capsys.readouterr().out
    assert [row.split(",")[0] for row in from_parquet.splitlines()] == ["dose", "1.0", "2.0", "4.0"]
    assert main(["predict", str(folder / "model.npz"), csv_path, "--dropna"]) == 0
    assert capsys.readouterr().out == from_parquet


READ_PEAK = """
import sys
from mlpfit.cli._data import read_table, select
before = peak_bytes()
A, _ = select(read_table(sys.argv[1]), ["dose", "response"])
print(peak_bytes() - before, A.nbytes)
"""


def test_reading_a_large_csv_costs_a_small_multiple_of_its_float64_size(tmp_path):
    rows = 300_000
    values = np.random.default_rng(0).uniform(0, 1000, (rows, 2)).round(6)
    np.savetxt(tmp_path / "big.csv", values, delimiter=",", header="dose,response", comments="", fmt="%.10g")
    rise, float64_bytes = map(int, run_measured(READ_PEAK, tmp_path / "big.csv")[0].split())
    assert float64_bytes == rows * 2 * 8
    assert rise < 3 * float64_bytes + 25 * 2**20, f"reading rose the peak by {rise / 2**20:.0f} MiB"


@pytest.mark.parametrize("estimator", [mlpfit.NeuralRegressor(max_iter=5), mlpfit.EnsembleRegressor(n_estimators=2)])
def test_a_dataframe_duration_column_is_refused_by_name(estimator):
    import pandas

    frame = pandas.DataFrame({"dose": DOSE, "when": pandas.timedelta_range("1D", periods=len(DOSE))})
    with pytest.raises(ValueError, match="column 'when' of X holds durations; convert them to numbers"):
        estimator.fit(frame, RESPONSE)
