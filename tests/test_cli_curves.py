"""A model of curves on the command line: fit --group, predict by group, plot a grid, diagnose and info."""

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from test_cli import PNG_SIGNATURE, write_csv

import mlpfit
from mlpfit import CurveBatch, NeuralRegressor, plot
from mlpfit.cli import main
from mlpfit.curves import SUMMARY_COLUMNS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(3)
T = np.round(np.linspace(0, 10, 30), 6)
CURVES = {
    f"s{i}": np.round(RNG.uniform(0.5, 2) * np.sqrt(T) + np.sin(T) + 0.05 * RNG.normal(size=30), 6) for i in range(4)
}
ROWS = [[group, t, value] for group, values in CURVES.items() for t, value in zip(T, values)] + [["lonely", 1.0, 2.0]]
"""Four curves of 30 rows, and "lonely", whose one row no network can be fitted to."""
OPTIONS = "--x t --y value --group sensor --seed 0 --max-iter 40".split()


def _stops(batch):
    """The report's line counting the fitted curves' stop reasons, most frequent first."""
    reasons = batch.summary_["stop_reason"][batch.summary_["status"] == "fitted"]
    return "stopped: " + ", ".join(f"{reason} {n}" for reason, n in Counter(reasons.tolist()).most_common())


def run(argv, capsys):
    """``(exit code, stdout, stderr)`` of ``mlpfit ARGV`` in-process."""
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """``mlpfit fit --group`` run once: its folder, exit code, report and the same batch fitted in Python."""
    folder = tmp_path_factory.mktemp("curves")
    data = write_csv(folder / "long.csv", ["sensor", "t", "value"], ROWS)
    argv = ["fit", data, *OPTIONS, "-o", folder / "curves.npz", "--summary", folder / "summary.csv"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*map(str, argv), "--plot", str(folder / "worst.png")])
    table = np.array(ROWS, dtype=object)
    batch = CurveBatch(NeuralRegressor(random_state=0, max_iter=40, verbose=1))
    batch.fit(table[:, 1:2].astype(float), table[:, 2].astype(float), groups=table[:, 0].astype(str))
    return folder, code, out.getvalue(), err.getvalue(), batch


def test_fit_reports_the_curves_and_exits_3_for_a_failed_one(fitted):
    folder, code, out, err, batch = fitted
    assert code == 3 and "1 curve(s) could not be fitted and 0 diverged; the model of the others was written" in err
    assert "curves: 5 (column 'sensor'), 4 fitted, 1 failed" in out
    assert "  not fitted: lonely: Found array with 1 sample(s)" in out
    assert _stops(batch) in out
    rmse = dict(zip(batch.groups_, batch.summary_["rmse"]))
    assert f"worst training RMSE: {', '.join(f'{g} {rmse[g]:.4g}' for g in batch.worst(5))}" in out
    assert f"model written to {folder / 'curves.npz'}, plot to {folder / 'worst.png'}, summary to" in out


def test_the_saved_model_is_the_python_api_batch(fitted):
    folder, _, _, _, batch = fitted
    loaded = mlpfit.load(folder / "curves.npz")
    assert loaded.groups_ == batch.groups_ and loaded.errors_ == batch.errors_
    for group in batch.estimators_:
        np.testing.assert_array_equal(loaded.predict(group, T), batch.predict(group, T))


def test_the_summary_has_a_row_per_curve(fitted):
    folder, _, _, _, batch = fitted
    with open(folder / "summary.csv", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert tuple(header) == SUMMARY_COLUMNS and [row[0] for row in rows] == batch.groups_
    for row, rmse, status in zip(rows, batch.summary_["rmse"], batch.summary_["status"]):
        assert row[2] == status and (row[5] == "" if np.isnan(rmse) else float(row[5]) == rmse)


def test_the_plot_draws_the_worst_curves_by_default_or_those_named(fitted, tmp_path, capsys):
    folder, _, _, _, batch = fitted
    assert (folder / "worst.png").read_bytes().startswith(PNG_SIGNATURE)
    table = np.array(ROWS, dtype=object)
    figure = plot.curves(batch, table[:, 1].astype(float), table[:, 2].astype(float), table[:, 0].astype(str))
    assert [ax.get_title().split(":")[0] for ax in figure.axes] == batch.worst(plot.MAX_PANELS) != []
    assert len(batch.worst(plot.MAX_PANELS)) == 4  # the failed curve is not drawn
    png = tmp_path / "two.png"
    assert run(["plot", folder / "curves.npz", folder / "long.csv", "--groups", "s2,s0", "-o", png], capsys)[0] == 0
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    figure = plot.curves(batch, T, CURVES["s0"], np.full(30, "s0"), which=["s0"], x_name="t", y_name="value")
    assert [ax.get_title() for ax in figure.axes] == [f"s0: RMSE {batch.summary_['rmse'][0]:.3g}"]
    with pytest.raises(ValueError, match="curve 's1' has no rows in the data"):
        plot.curves(batch, T, CURVES["s0"], np.full(30, "s0"), which=["s1"])
    with pytest.raises(ValueError, match="curve 'lonely' was not fitted"):
        plot.curves(batch, T, CURVES["s0"], np.full(30, "s0"), which=["lonely"])


def test_predict_uses_each_rows_curve(fitted, capsys):
    folder, _, _, _, batch = fitted
    new = write_csv(folder / "new.csv", ["t", "sensor"], [[2.5, "s1"], [11.0, "s3"], [4.0, ""], [0.5, "s1"]])
    code, out, err = run(["predict", folder / "curves.npz", new], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "sensor,t,value_predicted,in_range"
    assert lines[3] == ",4.0,,"
    s1 = [repr(value) for value in batch.predict("s1", np.array([2.5, 0.5])).tolist()]  # as predict does: by curve
    s3 = repr(float(batch.predict("s3", np.array([11.0]))[0]))
    assert [line.split(",")[2] for line in (lines[1], lines[4], lines[2])] == [*s1, s3]
    assert lines[2].endswith(",0")  # t = 11 lies outside s3's training range
    assert "1 of 4 rows has a missing input" in err and "1 of 4 rows lies outside the training range" in err


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[1.0, "s1"], [2.0, "s9"]], r"new.csv row 2 \(line 3\): group 's9' \(column 'sensor'\) is not a curve of the"),
        ([[1.0, "lonely"]], r"row 1 \(line 2\): the model's curve 'lonely' was not fitted \(Found array"),
    ],
)
def test_predict_refuses_a_row_whose_group_has_no_curve(fitted, tmp_path, capsys, rows, message):
    folder = fitted[0]
    new = write_csv(tmp_path / "new.csv", ["t", "sensor"], rows)
    code, out, err = run(["predict", folder / "curves.npz", new, "-o", tmp_path / "p.csv"], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("mlpfit predict: error: ") and re.search(message, err)
    assert not (tmp_path / "p.csv").exists()


def test_diagnose_lists_the_curves_with_problems(fitted, capsys):
    folder, _, _, _, batch = fitted
    code, out, _ = run(["diagnose", folder / "curves.npz", folder / "long.csv"], capsys)
    header, *lines = out.splitlines()
    assert code == 3 and lines[-1].startswith("lonely: not fitted: Found array")
    assert header == (
        f"{len(lines)} of 5 curves have problems (4 diagnosed on DATA's rows, 1 not fitted, 0 without rows in DATA)"
    )
    table = np.array(ROWS, dtype=object)
    for group in batch.estimators_:
        rows = table[:, 0] == group
        diagnosis = mlpfit.diagnose(
            batch.estimators_[group], table[rows, 1:2].astype(float), table[rows, 2].astype(float)
        )
        assert any(line.startswith(f"{group}: ") for line in lines) == (not diagnosis.ok)


def test_info_describes_the_curves(fitted, capsys):
    folder, _, _, _, batch = fitted
    code, out, _ = run(["info", folder / "curves.npz"], capsys)
    assert code == 0
    assert "model: CurveBatch" in out and "curves: 5 (column 'sensor'), 4 fitted, 1 failed" in out
    assert "  not fitted: lonely: Found array" in out and "every curve's parameters: " in out
    assert "max_iter=40" in out and "random_state=0" in out
    assert _stops(batch) in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "{data}", "--x", "t", "--y", "value", "--summary", "{tmp}/s.csv", "-o", "{tmp}/m.npz"], "--summary"),
        (["fit", "{data}", *OPTIONS, "--ensemble", "3", "-o", "{tmp}/m.npz"], "--ensemble cannot be combined"),
        (["fit", "{data}", "--x", "t,sensor", "--y", "value", "--group", "sensor", "-o", "{tmp}/m.npz"], "one role"),
        (["fit", "{data}", *OPTIONS, "-o", "{tmp}/m.npz", "--summary", "{tmp}/m.npz"], "also the model output"),
        (["fit", "{data}", *OPTIONS, "--weight", "sensor", "-o", "{tmp}/m.npz"], "the group .* and the weights"),
        (["predict", "{single}", "{data}", "--group", "sensor"], "--group is for a model of curves"),
        (["plot", "{single}", "{data}", "--groups", "s1", "-o", "{tmp}/p.png"], "--groups chooses curves"),
        (["plot", "{curves}", "{data}", "--groups", "s1,zz", "-o", "{tmp}/p.png"], "--groups names 'zz'"),
        (["fit", "{gap}", *OPTIONS, "-o", "{tmp}/m.npz"], r"1 rows with an empty group cell .*row 2 \(line 3\)"),
        (["fit", "{data}", *OPTIONS, "--parts", "2", "-o", "{tmp}/m.npz"], "--parts spreads the curves of --per-"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_file(fitted, tmp_path, capsys, argv, message):
    folder = fitted[0]
    single = tmp_path / "single.npz"
    mlpfit.save(NeuralRegressor(max_iter=5).fit(T[:, None], CURVES["s0"]), single, columns={"x": ["t"], "y": ["value"]})
    gap = write_csv(tmp_path / "gap.csv", ["sensor", "t", "value"], [["s0", 0, 1], ["", 1, 2], ["s0", 2, 2.5]])
    paths = {
        "data": folder / "long.csv",
        "tmp": tmp_path,
        "single": single,
        "curves": folder / "curves.npz",
        "gap": gap,
    }
    code, _, err = run([arg.format(**paths) for arg in argv], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and re.search(message, err), err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["gap.csv", "single.npz"]


def test_dropna_drops_rows_without_a_group(tmp_path, capsys):
    rows = [["a", t, np.sqrt(t)] for t in range(8)] + [["", 3, 1]]
    data = write_csv(tmp_path / "d.csv", ["sensor", "t", "value"], rows)
    code, out, _ = run(["fit", data, *OPTIONS, "--dropna", "-o", tmp_path / "m.npz"], capsys)
    assert code == 0 and "rows used: 8 of 9" in out and "curves: 1 (column 'sensor'), 1 fitted, 0 failed" in out


def test_a_batch_saved_from_python_with_integer_groups_is_matched_by_text(tmp_path, capsys):
    batch = CurveBatch(NeuralRegressor(max_iter=5, random_state=0), diagnose=False)
    batch.fit(np.stack([T, T]), np.stack([CURVES["s0"], CURVES["s1"]]))
    mlpfit.save(batch, tmp_path / "b.npz")
    new = write_csv(tmp_path / "new.csv", ["t", "id"], [[1.5, 1], [1.5, 0]])
    code, out, err = run(["predict", tmp_path / "b.npz", new, "--x", "t"], capsys)
    assert code == 2 and "saved without its group column; name it with --group" in err
    code, out, _ = run(["predict", tmp_path / "b.npz", new, "--x", "t", "--group", "id"], capsys)
    assert code == 0
    assert [line.split(",")[2] for line in out.splitlines()[1:]] == [
        repr(float(batch.predict(group, np.array([1.5]))[0])) for group in (1, 0)
    ]


# --- --per-partition: a Parquet dataset fitted with Dask into a directory of parts ------------


@pytest.fixture(scope="module")
def partitioned(fitted):
    """``fit --per-partition`` of the same rows as a Parquet dataset of 3 files: its folder, code and report."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    folder = fitted[0]
    frame = pd.DataFrame(ROWS, columns=["sensor", "t", "value"]).sample(frac=1, random_state=0, ignore_index=True)
    dd.from_pandas(frame, npartitions=3, sort=False).to_parquet(folder / "long")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["fit", str(folder / "long"), *OPTIONS, "--per-partition", "-o", str(folder / "parts")])
    return folder, code, out.getvalue(), err.getvalue()


def test_per_partition_reports_the_curves_as_the_in_memory_fit(fitted, partitioned):
    folder, code, out, err = partitioned
    assert code == 3 and "1 curve(s) could not be fitted and 0 diverged" in err
    in_memory = fitted[2].splitlines()
    curve_lines = [line for line in in_memory if line.startswith(("curves:", "  not fitted:", "stopped:", "worst"))]
    assert curve_lines and all(line in out.splitlines() for line in curve_lines)
    assert out.splitlines()[0] == f"rows used: {len(ROWS)}; inputs t; target value"
    assert f"curves written to {folder / 'parts'}: " in out and "part files and their index curves.json" in out


def test_predict_reads_a_directory_of_parts_as_the_model_file(fitted, partitioned, capsys):
    folder = fitted[0]
    new = write_csv(folder / "new.csv", ["t", "sensor"], [[2.5, "s1"], [11.0, "s3"], [4.0, ""], [0.5, "s1"]])
    expected = run(["predict", folder / "curves.npz", new], capsys)
    assert run(["predict", folder / "parts", new], capsys) == expected
    bad = write_csv(folder / "bad.csv", ["t", "sensor"], [[1.0, "s1"], [2.0, "s9"], [1.0, "lonely"]])
    code, out, err = run(["predict", folder / "parts", bad], capsys)
    assert code == 2 and out == ""
    assert re.search(r"row [23] \(line [34]\): (group 's9'|the model's curve 'lonely')", err), err


NO_GROUP = "--x t --y value --seed 0".split()


@pytest.mark.parametrize(
    "data, options, message",
    [
        ("{parquet}", [*OPTIONS, "--plot", "{tmp}/p.png"], "--per-partition cannot be combined with --plot"),
        ("{parquet}", [*OPTIONS, "--summary", "{tmp}/s.csv"], "cannot be combined with --summary"),
        ("{parquet}", [*OPTIONS, "--dropna"], "cannot be combined with --dropna"),
        ("{csv}", OPTIONS, "--per-partition reads DATA as Parquet: a .parquet file, a directory of them or a glob"),
        ("{tmp}/none.parquet", OPTIONS, "data .*none.parquet does not exist"),
        ("{parquet}", NO_GROUP, "--per-partition fits one curve per group and writes them part by part; give --group"),
        ("{parquet}", [*OPTIONS, "-o", "{tmp}/no/dir"], "cannot write the curves to .*: directory .* does not exist"),
        ("{parquet}", [*OPTIONS, "-o", "{csv}"], "long.csv is a file; the curves are written into a directory"),
        ("{parquet}", [*OPTIONS, "--parts", "0"], "--parts must be at least 1; got 0"),
        ("{parquet}", [*OPTIONS, "--workers", "0"], "--workers must be at least 1; got 0"),
    ],
)
def test_per_partition_refuses_what_it_does_not_take(partitioned, tmp_path, capsys, data, options, message):
    paths = {"tmp": tmp_path, "csv": partitioned[0] / "long.csv", "parquet": partitioned[0] / "long"}
    argv = ["fit", data, *options, "--per-partition", "-o", "{tmp}/parts"]
    argv = argv[:-2] if "-o" in options else argv
    code, _, err = run([arg.format(**paths) for arg in argv], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and re.search(message, err), err
    assert not (tmp_path / "parts").exists()


def test_per_partition_fits_on_the_cluster_workers_asks_for(partitioned, tmp_path, capsys, monkeypatch):
    from mlpfit.cli import _cluster

    started = []
    monkeypatch.setattr(_cluster, "_client", _recorded(_cluster._client, started))
    folder, _, out, _ = partitioned
    argv = ["fit", folder / "long", *OPTIONS, "--per-partition", "--workers", "1", "-o", tmp_path / "parts"]
    code, on_cluster, _ = run(argv, capsys)
    assert started == [(1, 0)] and code == 3  # and the client keeps no log of the graphs it sent
    assert on_cluster.splitlines()[:-1] == out.splitlines()[:-1]  # the last line names the directory
    tallies = [json.loads((where / "parts" / "curves.json").read_text())["tally"] for where in (tmp_path, folder)]
    worst = [dict(tally.pop("worst")) for tally in tallies]
    assert tallies[0] == tallies[1] and worst[0] == pytest.approx(worst[1], rel=1e-12)  # BLAS in other processes


def _recorded(client, started):
    """``client`` (a context manager of ``(distributed, args)``) that appends to ``started`` ``args.workers`` and how
    many of its last messages the client it yields keeps for developers (distributed's log)."""

    @contextlib.contextmanager
    def recorded(distributed, args):
        with client(distributed, args) as made:
            started.append((args.workers, made.scheduler_comm.recent_message_log.maxlen))
            yield made

    return recorded


def test_curves_too_many_for_one_model_file_are_refused_naming_the_directory_fit(fitted, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mlpfit._model_file, "MAX_METADATA_CHARS", 5000)  # a few curves' metadata, not five
    argv = ["fit", fitted[0] / "long.csv", *OPTIONS, "-o", tmp_path / "curves.npz", "--summary", tmp_path / "s.csv"]
    code, _, err = run(argv, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert re.search(r"the limit is 5000\. Write the curves into a directory of parts .* --per-partition", err), err
    assert "fit_to_directory" not in err  # the library's advice is for Python users
    assert list(tmp_path.iterdir()) == []  # neither the model nor the summary


def test_per_partition_names_a_part_too_large_for_one_model_file(partitioned, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mlpfit._model_file, "MAX_METADATA_CHARS", 5000)  # a few curves' metadata, not five
    argv = ["fit", partitioned[0] / "long", *OPTIONS, "--per-partition", "--parts", "1", "-o", tmp_path / "parts"]
    code, _, err = run(argv, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert re.search(r"part 0 holds 5 curves, more than one model file takes: .* --parts N", err), err
    assert "fit_to_directory" not in err
    assert "curves.json" not in {path.name for path in (tmp_path / "parts").iterdir()}


def test_info_describes_a_directory_of_parts_from_its_index(fitted, partitioned, capsys):
    folder, _, report, _, batch = fitted
    code, out, _ = run(["info", folder / "parts"], capsys)
    directory = CurveBatch.load(folder / "parts")
    assert code == 0
    assert out.splitlines()[:5] == [
        f"format: mlpfit-curve-directory version 1 (written by mlpfit {mlpfit.__version__})",
        "model: curves in a directory of parts (CurveDirectory)",
        "inputs: t",
        "outputs: value",
        f"parts: 3, {sum(r.file is not None for r in directory.parts_.values())} with a model file; index curves.json",
    ]
    assert f"rows fitted: {len(ROWS)}" in out
    curve_lines = [line for line in report.splitlines() if line.startswith(("curves:", "  not fitted:", "stopped:"))]
    assert curve_lines and all(line in out.splitlines() for line in curve_lines) and _stops(batch) in out
    rmse = dict(zip(batch.groups_, batch.summary_["rmse"]))
    assert f"worst training RMSE: {', '.join(f'{g} {rmse[g]:.4g}' for g in batch.worst(5))}" in out


def test_info_describes_a_directory_of_parts_without_scikit_learn(partitioned):
    code = "import sys; from mlpfit.cli import main; main(['info', sys.argv[1]]); print('sklearn' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(mlpfit.__file__))}  # this checkout's mlpfit
    argv = [sys.executable, "-c", code, str(partitioned[0] / "parts")]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("format: mlpfit-curve-directory") and done.stdout.splitlines()[-1] == "False"


def test_diagnose_lists_the_curves_with_problems_of_a_directory_as_of_the_file(fitted, partitioned, capsys):
    folder = fitted[0]
    code, out, _ = run(["diagnose", folder / "curves.npz", folder / "long.csv"], capsys)
    header, *lines = out.splitlines()
    assert code == 3 and lines[-1].startswith("lonely: not fitted: Found array")
    code_dir, out_dir, _ = run(["diagnose", folder / "parts", folder / "long.csv"], capsys)
    header_dir, *lines_dir = out_dir.splitlines()
    assert (code_dir, header_dir, sorted(lines_dir)) == (code, header, sorted(lines))  # parts in another order


def test_plot_draws_the_worst_curves_of_a_directory_or_those_named(fitted, partitioned, tmp_path, capsys):
    folder, _, _, _, batch = fitted
    table = np.array(ROWS, dtype=object)
    x, y, groups = table[:, 1].astype(float), table[:, 2].astype(float), table[:, 0].astype(str)
    directory = CurveBatch.load(folder / "parts")
    titles = [ax.get_title() for ax in plot.curves(directory, x, y, groups).axes]
    assert titles == [ax.get_title() for ax in plot.curves(batch, x, y, groups).axes] != []  # the tally names all 4
    for argv in ([], ["--groups", "s2,s0"]):
        png = tmp_path / "grid.png"
        assert run(["plot", folder / "parts", folder / "long.csv", *argv, "-o", png], capsys)[0] == 0
        assert png.read_bytes().startswith(PNG_SIGNATURE)
        png.unlink()
    code, _, err = run(["plot", folder / "parts", folder / "long.csv", "--groups", "s1,zz", "-o", png], capsys)
    assert code == 2 and "--groups names 'zz', which is not a curve of the model" in err and not png.exists()


@pytest.mark.parametrize("command", ["info", "diagnose", "plot"])
def test_a_directory_missing_a_part_or_its_index_exits_2_with_one_line(fitted, partitioned, tmp_path, capsys, command):
    folder = fitted[0]
    copy = tmp_path / "copy"
    shutil.copytree(folder / "parts", copy)
    part = next(record for record in CurveBatch.load(copy).parts_.values() if record.file)
    data = [] if command == "info" else [folder / "long.csv"]
    output = ["-o", tmp_path / "p.png"] if command == "plot" else []
    (copy / part.file).unlink()
    code, out, err = run([command, copy, *data, *output], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"{part.file} is missing: the index lists it as part {part.part}" in err
    (copy / "curves.json").unlink()
    code, out, err = run([command, copy, *data, *output], capsys)
    assert (
        code == 2 and len(err.splitlines()) == 1 and "has no index curves.json: it is not a directory of curves" in err
    )
    assert not (tmp_path / "p.png").exists()
