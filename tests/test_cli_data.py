"""Data as it comes (issue 16): columns named in lists or all at once, decimal commas, and predict keeping
every row. Every test calls ``main`` in-process; the smoke tests as a user runs them are in test_cli.py."""

import csv

import numpy as np
import pytest

import mlpfit
from mlpfit import _cells
from mlpfit._plan import DEFAULT_MAX_ITER, LBFGS_MAX_ITER
from mlpfit.cli import main
from mlpfit.cli._data import read_table, select
from mlpfit.io import load_with_metadata
from mlpfit.solvers import SOLVERS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(16)
N = 30
A, B = RNG.uniform(0, 10, N), RNG.normal(size=N)
Y = np.sqrt(A) + 0.1 * B + 0.05 * RNG.normal(size=N)
CHEAP = "--hidden 3 --averaged 1 --max-iter 5 --seed 0 -q".split()
"""A fit that takes milliseconds and is the same every run."""


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def read_csv(path_or_text):
    text = path_or_text if "\n" in path_or_text else open(path_or_text, newline="").read()
    return list(csv.reader(text.splitlines()))


def fit(data, *options, folder, name="m.npz"):
    """``mlpfit fit`` with the cheap settings: (exit code, model path)."""
    path = str(folder / name)
    return main(["fit", str(data), *options, *CHEAP, "-o", path]), path


def saved_columns(path):
    return load_with_metadata(path)[1]["columns"]


def predictions(path, X):
    return mlpfit.load(path).predict(np.asarray(X, dtype=float))


@pytest.fixture
def table(tmp_path):
    """a, b, y, a text column and an empty one."""
    rows = [[a, b, y, f"lot {i % 4}", ""] for i, (a, b, y) in enumerate(zip(A, B, Y))]
    return write_csv(tmp_path / "t.csv", ["a", "b", "y", "lot", "note"], rows)


def assert_refused(captured, command, *fragments):
    """Exit 2's one line: the command, every fragment, no traceback, nothing on stdout."""
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"mlpfit {command}: error: ")
    for fragment in fragments:
        assert fragment in captured.err


# --- column selection ---------------------------------------------------------------------------


def test_comma_separated_columns_are_the_repeated_option(table, tmp_path):
    code, listed = fit(table, "--x", "a,b", "--y", "y", folder=tmp_path, name="listed.npz")
    assert code == 0
    code, repeated = fit(table, "--x", "a", "--x", "b", "--y", "y", folder=tmp_path, name="repeated.npz")
    assert code == 0
    assert saved_columns(listed) == saved_columns(repeated) == {"x": ["a", "b"], "y": ["y"]}
    X = np.c_[A, B]
    assert np.array_equal(predictions(listed, X), predictions(repeated, X))


def test_spaces_around_listed_names_are_ignored_and_a_name_with_a_comma_is_taken_whole(tmp_path):
    data = write_csv(tmp_path / "d.csv", ["dose, mg", "b", "y"], zip(A, B, Y))
    code, path = fit(data, "--x", "dose, mg", "--x", " b ", "--y", "y", folder=tmp_path)
    assert code == 0 and saved_columns(path)["x"] == ["dose, mg", "b"]


def test_x_all_takes_exactly_the_numeric_non_target_columns(tmp_path):
    # catches --x-all taking the target, dropping a column, or reordering them
    data = write_csv(tmp_path / "d.csv", ["b", "y", "a", "note"], [[b, y, a, ""] for a, b, y in zip(A, B, Y)])
    code, path = fit(data, "--x-all", "--y", "y", folder=tmp_path)
    assert code == 0 and saved_columns(path) == {"x": ["b", "a"], "y": ["y"]}  # the empty 'note' has no numbers
    code, explicit = fit(data, "--x", "b,a", "--y", "y", folder=tmp_path, name="explicit.npz")
    assert np.array_equal(predictions(path, np.c_[B, A]), predictions(explicit, np.c_[B, A]))
    code, two_targets = fit(data, "--x-all", "--y", "y,b", folder=tmp_path, name="two.npz")
    assert code == 0 and saved_columns(two_targets) == {"x": ["a"], "y": ["y", "b"]}


def test_x_all_names_a_text_column_and_writes_nothing(table, tmp_path, capsys):
    code, path = fit(table, "--x-all", "--y", "y", folder=tmp_path)
    assert code == 2
    assert_refused(
        capsys.readouterr(),
        "fit",
        "--x-all: column 'lot' of ",
        "is not numbers or dates (a non-numeric value 'lot 0' in row 1 (line 2))",
        "a text column is a categorical input only when --x names it.",
    )
    assert not (tmp_path / "m.npz").exists()


def test_x_all_without_any_input_left_is_refused(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["y"], zip(Y))
    assert fit(data, "--x-all", "--y", "y", folder=tmp_path)[0] == 2
    assert_refused(capsys.readouterr(), "fit", "has no column with numbers or dates besides the target(s)")


@pytest.mark.parametrize(
    "options, message",
    [
        ("--x y --y y", "column 'y' is both an input (--x) and a target (--y)"),
        ("--x a,y --y y", "column 'y' is both an input (--x) and a target (--y)"),
        ("--x a --x a --y y", "column 'a' is named twice in --x."),
        ("--x a,b,a --y y", "column 'a' is named twice in --x."),
        ("--x a --y y,y", "column 'y' is named twice in --y."),
        ("--x a, --y y", "--x 'a,' has an empty column name."),
        ("--x a --x-all --y y", None),
    ],
    ids=["input is target", "listed input is target", "repeated", "listed twice", "target twice", "empty", "both"],
)
def test_column_roles_are_refused_in_one_line_and_nothing_is_written(table, tmp_path, capsys, options, message):
    if message is None:  # argparse's own refusal of --x with --x-all
        with pytest.raises(SystemExit) as exit_info:
            fit(table, *options.split(), folder=tmp_path)
        assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    else:
        assert fit(table, *options.split(), folder=tmp_path)[0] == 2
        assert_refused(capsys.readouterr(), "fit", message)
    assert not (tmp_path / "m.npz").exists()


def test_plot_and_diagnose_refuse_an_input_renamed_to_the_target(table, tmp_path, capsys):
    code, path = fit(table, "--x", "a", "--y", "y", folder=tmp_path)
    assert code == 0
    assert main(["diagnose", path, table, "--x", "y"]) == 2
    assert_refused(capsys.readouterr(), "diagnose", "column 'y' is both an input (--x) and a target (--y)")
    assert main(["plot", path, table, "--x", "b", "--y", "b", "-o", str(tmp_path / "p.png")]) == 2
    assert_refused(capsys.readouterr(), "plot", "column 'b' is both an input")
    assert not (tmp_path / "p.png").exists()


def test_predict_renames_inputs_with_a_listed_x(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "b", "y"], zip(A, B, Y))
    code, path = fit(data, "--x", "a,b", "--y", "y", folder=tmp_path)
    renamed = write_csv(tmp_path / "r.csv", ["u", "v"], zip(A, B))
    assert main(["predict", path, renamed, "--x", "u,v"]) == 0
    rows = read_csv(capsys.readouterr().out)
    assert rows[0] == ["u", "v", "y_predicted", "in_range"]
    assert np.array_equal(np.array(rows[1:], dtype=float)[:, 2], predictions(path, np.c_[A, B]))


# --- decimal commas -----------------------------------------------------------------------------


def semicolon_text(header, columns):
    """A ';'-separated table whose numbers are written exactly (repr) with a decimal comma."""
    lines = [";".join(header)] + [";".join(repr(float(v)).replace(".", ",") for v in row) for row in zip(*columns)]
    return "\n".join(lines) + "\n"


def test_a_semicolon_file_with_decimal_commas_gives_the_same_model_as_the_point_file(tmp_path, capsys):
    point = write_csv(tmp_path / "point.csv", ["a", "b", "y"], zip(A, B, Y))
    (tmp_path / "comma.csv").write_text(semicolon_text(["a", "b", "y"], [A, B, Y]))
    comma_table = read_table(str(tmp_path / "comma.csv"))
    assert comma_table.decimal == "," and comma_table.decimal_detected
    assert np.array_equal(select(comma_table, ["a", "b", "y"])[0], np.c_[A, B, Y])  # every value exact
    assert fit(point, "--x", "a,b", "--y", "y", folder=tmp_path, name="point.npz")[0] == 0
    comma = str(tmp_path / "comma.npz")
    assert main(["fit", str(tmp_path / "comma.csv"), "--x", "a,b", "--y", "y", *CHEAP[:-1], "-o", comma]) == 0
    assert "rows used: 30 of 30; inputs a, b; target y; decimal mark ',' (detected)\n" in capsys.readouterr().out
    X = np.c_[A, B]
    assert np.array_equal(predictions(comma, X), predictions(tmp_path / "point.npz", X))


def test_the_decimal_option_reads_a_semicolon_file_and_overrides_detection(tmp_path, capsys):
    (tmp_path / "comma.csv").write_text(semicolon_text(["a", "y"], [A, Y]))
    table = read_table(str(tmp_path / "comma.csv"), decimal=",")
    assert table.decimal == "," and not table.decimal_detected
    assert main(["fit", str(tmp_path / "comma.csv"), "--x", "a", "--y", "y", "--decimal", ".", "-o", "m.npz"]) == 2
    assert_refused(
        capsys.readouterr(),
        "fit",
        f"has a non-numeric value {repr(float(A[0])).replace('.', ',')!r} in row 1 (line 2); "
        "the decimal mark is '.' (pass --decimal , if it is ',').",
    )


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_a_quoted_comma_number_in_a_comma_or_tab_file_is_refused_unless_the_decimal_is_given(
    tmp_path, capsys, delimiter
):
    # catches "1,5" silently read as 1.5 (or 15) where the comma is not known to be the decimal mark
    rows = [[a, y] for a, y in zip(A, Y)]
    rows[4][0] = "1,5"
    data = write_csv(tmp_path / "d.csv", ["a", "y"], rows, delimiter=delimiter)
    assert read_table(data).decimal == "."
    assert fit(data, "--x", "a", "--y", "y", folder=tmp_path)[0] == 2
    assert_refused(
        capsys.readouterr(),
        "fit",
        "column 'a' of ",
        "has a non-numeric value '1,5' in row 5 (line 6); the decimal mark is '.' (pass --decimal , if it is ',').",
    )
    assert not (tmp_path / "m.npz").exists()
    # with the mark given, the comma cell is 1.5 and the points elsewhere are refused, not guessed
    assert main(["fit", data, "--x", "a", "--y", "y", "--decimal", ",", "-o", str(tmp_path / "m.npz")]) == 2
    assert "the decimal mark is ',' (pass --decimal . if it is '.')" in capsys.readouterr().err
    cells = [["1,5", "x"], ["-2", "y"], ["3,25e-1", "z"]]
    only_comma = write_csv(tmp_path / "c.csv", ["a", "id"], cells, delimiter=delimiter)
    assert np.array_equal(select(read_table(only_comma, decimal=","), ["a"])[0][:, 0], [1.5, -2.0, 0.325])


def test_a_semicolon_file_with_a_decimal_point_in_its_first_rows_is_not_read_with_commas(tmp_path, capsys):
    # one point among the sampled numbers keeps '.', so the comma cells are refused rather than misread
    (tmp_path / "d.csv").write_text("a;y\n1.5;2\n2,5;3\n3;4\n")
    assert read_table(str(tmp_path / "d.csv")).decimal == "."
    assert fit(tmp_path / "d.csv", "--x", "a", "--y", "y", folder=tmp_path)[0] == 2
    assert "has a non-numeric value '2,5' in row 2 (line 3); the decimal mark is '.'" in capsys.readouterr().err


def test_a_point_after_the_sampled_rows_of_a_detected_comma_file_is_refused(tmp_path, capsys):
    rows = "".join(f"{i},5;{i}\n" for i in range(20_000))  # beyond the bytes the detection reads
    (tmp_path / "d.csv").write_text("a;y\n" + rows + "7.5;8\n")
    assert fit(tmp_path / "d.csv", "--x", "a", "--y", "y", folder=tmp_path)[0] == 2
    assert_refused(
        capsys.readouterr(),
        "fit",
        "has a non-numeric value '7.5' in row 20001 (line 20002); the decimal mark is ',' "
        "(pass --decimal . if it is '.', detected from the file's ';' separator and decimal commas).",
    )


def test_a_semicolon_file_of_integers_and_text_is_read_with_points(tmp_path):
    (tmp_path / "d.csv").write_text("id;a;y\nx,1;1;2\nx,2;2;3\n")  # a comma inside text is not a number
    table = read_table(str(tmp_path / "d.csv"))
    assert table.decimal == "." and np.array_equal(select(table, ["a", "y"])[0], [[1, 2], [2, 3]])


@pytest.mark.parametrize(
    "cell, decimal, value",
    [
        ("0,5", ",", 0.5),
        ("-12,25", ",", -12.25),
        ("1,5E-03", ",", 0.0015),
        ("7", ",", 7.0),
        ("", ",", np.nan),
        ("NA", ",", np.nan),
        ("0.5", ".", 0.5),
    ],
)
def test_cell_value_reads_the_tables_decimal_mark(cell, decimal, value):
    assert np.array_equal(_cells.cell_value(cell, decimal), value, equal_nan=True)


@pytest.mark.parametrize(
    "cell, decimal, mark",
    [("0,5", ".", ","), ("0.5", ",", "."), ("1,2,3", ",", None), ("1.000,5", ",", None), ("12,5 mg", ".", None)],
)
def test_cell_value_refuses_the_other_mark_and_says_which_would_read_it(cell, decimal, mark):
    with pytest.raises(_cells.NotANumber) as refused:
        _cells.cell_value(cell, decimal)
    assert refused.value.what == f"a non-numeric value {cell!r}" and refused.value.mark == mark


@pytest.mark.parametrize(
    "cells, mark",
    [
        (["a", "0,5", "7", ""], ","),
        (["0,5", "1.5"], "."),
        (["1", "2"], "."),
        (["x,1", "lot 2,5"], "."),
        (["-1,5e3"], ","),
    ],
)
def test_decimal_mark_is_a_comma_only_when_no_number_uses_a_point(cells, mark):
    assert _cells.decimal_mark(cells) == mark


# --- predict keeps every row ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    data = write_csv(folder / "d.csv", ["a", "b", "y"], zip(A, B, Y))
    assert main(["fit", data, "--x", "a,b", "--y", "y", *CHEAP, "-o", str(folder / "m.npz")]) == 0
    return str(folder / "m.npz")


def new_rows(tmp_path):
    """Six rows; rows 2 and 5 (1-based) have a missing input, row 4 a missing id."""
    rows = [["r1", 1.0, 0.5], ["r,2", "", 0.1], ["r3", 2.0, -1.0], ["", 3.5, 0.0], ["r5", 4.0, "NaN"], ["r6", 5, 2]]
    return write_csv(tmp_path / "new.csv", ["id", "a", "b", "site"], [row + [f"s{i}"] for i, row in enumerate(rows)])


def test_predict_keeps_every_row_with_empty_predictions_where_an_input_is_missing(model, tmp_path, capsys):
    data = new_rows(tmp_path)
    assert main(["predict", model, data, "--keep", "id,site", "-o", str(tmp_path / "p.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "mlpfit predict: 2 of 6 rows have a missing input; their predictions are empty.\n"
        "mlpfit predict: 1 of 6 rows lies outside the training range of an input; predictions there extrapolate.\n"
    )
    rows = read_csv(str(tmp_path / "p.csv"))
    assert rows[0] == ["id", "site", "a", "b", "y_predicted", "in_range"]
    assert [row[:2] for row in rows[1:]] == [
        ["r1", "s0"],
        ["r,2", "s1"],
        ["r3", "s2"],
        ["", "s3"],
        ["r5", "s4"],
        ["r6", "s5"],
    ]
    assert [row[2:4] for row in rows[1:]][1] == ["", "0.1"] and rows[5][3] == ""
    assert [row[4] == "" for row in rows[1:]] == [False, True, False, False, True, False]
    assert [row[5] for row in rows[1:]] == ["1", "", "1", "1", "", "0"]
    complete = np.array([[1.0, 0.5], [2.0, -1.0], [3.5, 0.0], [5.0, 2.0]])
    assert np.array_equal([float(rows[i][4]) for i in (1, 3, 4, 6)], predictions(model, complete))


def test_predict_dropna_leaves_the_rows_out_and_counts_them(model, tmp_path, capsys):
    assert main(["predict", model, new_rows(tmp_path), "--keep", "id", "--dropna"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "mlpfit predict: 2 of 6 rows have a missing input; left out (--dropna).\n"
        "mlpfit predict: 1 of 6 rows lies outside the training range of an input; predictions there extrapolate.\n"
    )
    rows = read_csv(captured.out)
    assert rows[0] == ["id", "a", "b", "y_predicted", "in_range"] and [row[0] for row in rows[1:]] == [
        "r1",
        "r3",
        "",
        "r6",
    ]


def test_predict_with_every_input_missing_writes_every_row_empty(model, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "b"], [["", 1], ["nan", ""]])
    assert main(["predict", model, data]) == 0
    captured = capsys.readouterr()
    assert read_csv(captured.out) == [["a", "b", "y_predicted", "in_range"], ["", "1.0", "", ""], ["", "", "", ""]]
    assert captured.err == "mlpfit predict: 2 of 2 rows have a missing input; their predictions are empty.\n"


def test_predict_without_missing_inputs_says_nothing_on_stderr(model, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "b"], zip(A, B))
    assert main(["predict", model, data]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--keep", "a"], "column 'a' is passed through (--keep); it cannot also be an input or target."),
        (["--keep", "id,id"], "column 'id' is named twice in --keep."),
        (["--keep", "nope"], "has no column 'nope'; available columns: id, a, b, site."),
        (["--x", "a,a"], "column 'a' is named twice in --x."),
    ],
    ids=["keep an input", "keep twice", "keep a missing column", "input twice"],
)
def test_predict_refuses_bad_columns_in_one_line(model, tmp_path, capsys, argv, message):
    assert main(["predict", model, new_rows(tmp_path), *argv, "-o", str(tmp_path / "p.csv")]) == 2
    assert_refused(capsys.readouterr(), "predict", message)
    assert not (tmp_path / "p.csv").exists()


def test_predict_still_refuses_text_in_an_input_column(model, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "b"], [[1, 2], [3, "n/d"], ["", 1]])
    assert main(["predict", model, data, "-o", str(tmp_path / "p.csv")]) == 2
    assert_refused(capsys.readouterr(), "predict", "column 'b' of ", "has a non-numeric value 'n/d' in row 2 (line 3).")
    assert not (tmp_path / "p.csv").exists()


def test_an_ensembles_interval_is_empty_where_an_input_is_missing(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "y"], zip(A, Y))
    path = str(tmp_path / "e.npz")
    assert main(["fit", data, "--x", "a", "--y", "y", "--ensemble", "2", *CHEAP, "-o", path]) == 0
    new = write_csv(tmp_path / "n.csv", ["a"], [[1.0], ["NaN"], [3.0]])
    assert main(["predict", path, new]) == 0
    rows = read_csv(capsys.readouterr().out)
    assert rows[0] == ["a", "y_predicted", "y_lower", "y_upper", "in_range"] and rows[2] == ["", "", "", "", ""]
    lower, upper = mlpfit.load(path).predict_interval(np.array([[1.0], [3.0]]), 0.95)
    assert np.array_equal([float(rows[1][2]), float(rows[3][3])], [lower[0], upper[1]])


def test_parquet_columns_pass_through_as_text(model, tmp_path, capsys):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pandas.DataFrame(
        {"id": pandas.array([7, None, 9], dtype="Int64"), "a": [1.0, 2.0, None], "b": [0.5, 0.1, 0.2]}
    )
    frame.to_parquet(tmp_path / "d.parquet")
    assert main(["predict", model, str(tmp_path / "d.parquet"), "--keep", "id"]) == 0
    rows = read_csv(capsys.readouterr().out)
    assert [row[:3] for row in rows] == [["id", "a", "b"], ["7", "1.0", "0.5"], ["", "2.0", "0.1"], ["9", "", "0.2"]]
    assert rows[3][3] == ""


def test_a_blank_line_in_a_one_column_file_is_an_empty_cell(tmp_path, capsys):
    # a one-column file writes an empty cell as a blank line: dropping it would shift every later row
    from mlpfit import NeuralRegressor, save

    model = NeuralRegressor(hidden_layer_sizes=3, max_iter=5, random_state=0).fit(A[:, None], Y)
    save(model, tmp_path / "m.npz", columns={"x": ["a"], "y": ["y"]})
    (tmp_path / "d.csv").write_text("a\n\n1.5\n\n\n2.5\n\n")
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "d.csv")]) == 0
    captured = capsys.readouterr()
    assert [row[0] for row in read_csv(captured.out)] == ["a", "", "1.5", "", "", "2.5"]  # trailing blank: no row
    assert captured.err == "mlpfit predict: 3 of 5 rows have a missing input; their predictions are empty.\n"


# --- help texts say what the options do ----------------------------------------------------------


def test_fit_help_describes_the_solvers_and_what_auto_means(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"auto: {LBFGS_MAX_ITER} for L-BFGS, {DEFAULT_MAX_ITER} for the others" in text
    assert all(name in text for name in SOLVERS) and "(L-BFGS) or epochs" not in text
    for option in ("--x-all", "--decimal MARK", "COL[,COL...]"):
        assert option in text


def test_auto_can_be_given_to_every_option_whose_default_is_auto(table, tmp_path):
    options = "--max-iter auto --batch-size auto --averaged auto --tol auto --alpha auto --hidden auto".split()
    code = main(
        ["fit", table, "--x", "a", "--y", "y", *options, "--solver", "adam", "-q", "-o", str(tmp_path / "m.npz")]
    )
    assert code == 0
    params = mlpfit.load(tmp_path / "m.npz").get_params()
    assert all(params[key] == "auto" for key in ("max_iter", "batch_size", "n_averaged", "tol", "alpha"))
