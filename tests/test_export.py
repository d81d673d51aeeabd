"""Exports compute what predict computes: ONNX in onnxruntime, the NumPy module in a fresh interpreter without
mlpfit, the C header compiled by the system compiler, each against ``predict`` to 1e-12 in float64."""

import contextlib
import copy
import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, export
from mlpfit._activations import ACTIVATIONS
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)
X2 = RNG.uniform(0.5, 4.0, (50, 2))
Y2 = np.column_stack([2 + np.sin(X2[:, 0]) + X2[:, 1] ** 2, np.exp(-X2[:, 0]) * X2[:, 1]]) + 0.05 * RNG.normal(
    size=(50, 2)
)
NEW = np.random.default_rng(1).uniform(0.1, 6.0, (40, 2))
"""Rows to predict: random, inside the training range and beyond it."""


def neural(n_inputs=2, n_outputs=1, **params):
    y = Y2[:, 0] if n_outputs == 1 else Y2[:, :n_outputs]
    return NeuralRegressor(max_iter=20, random_state=0, **params).fit(X2[:, :n_inputs], y)


def ensemble(noise, n_outputs=1):
    template = NeuralRegressor(max_iter=10, hidden_layer_sizes=(6,))
    y = Y2[:, 0] if n_outputs == 1 else Y2[:, :n_outputs]
    return EnsembleRegressor(template, n_estimators=3, noise=noise, random_state=0).fit(X2, y)


MODELS = {
    "one input, one output": lambda: neural(1),
    "two inputs, two outputs, depth 2": lambda: neural(2, 2, hidden_layer_sizes=(5, 4), activation="tanh"),
    **{
        f"{activation}, depth {depth}": (
            lambda a=activation, d=depth: neural(2, 1, hidden_layer_sizes=(4,) * d, activation=a, n_averaged=1)
        )
        for activation in ACTIVATIONS
        for depth in (1, 3)
    },
    "three networks averaged": lambda: neural(2, 2, n_averaged=3, hidden_layer_sizes=(5,)),
    "gaussian_nll: std": lambda: neural(2, 2, loss="gaussian_nll", activation="softplus"),
    "log inputs, log target": lambda: neural(2, 1, input_transform="log", target_transform="log"),
    "log1p input, log1p targets": lambda: neural(2, 2, input_transform=("log1p", None), target_transform="log1p"),
    "gaussian_nll with a target transform: no std": lambda: neural(2, 1, loss="gaussian_nll", target_transform="log"),
    "ensemble, heteroscedastic": lambda: ensemble("heteroscedastic"),
    "ensemble, homoscedastic, two outputs": lambda: ensemble("homoscedastic", 2),
}


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    return MODELS[request.param]()


def expected(model, X):
    """``predict``'s mean, and its std where it has one."""
    try:
        return model.predict(X, return_std=True)
    except ValueError:
        return (model.predict(X),)


def assert_matches(actual, wanted, rtol=1e-12):
    """Each output equal to ``rtol`` of the output's largest magnitude (a value near 0 has no relative error)."""
    assert len(actual) == len(wanted)
    for got, value in zip(actual, wanted):
        assert got.shape == value.shape
        np.testing.assert_allclose(got, value, rtol=rtol, atol=rtol * np.abs(value).max())


def n_inputs(model):
    return model.n_features_in_


def test_onnx_equals_predict(model):
    X = NEW[:, : n_inputs(model)]
    session = ort.InferenceSession(export.to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"])
    assert_matches(session.run(None, {"X": X}), expected(model, X))


def test_the_python_module_runs_without_mlpfit_and_equals_predict(model, tmp_path):
    X = NEW[:, : n_inputs(model)]
    (tmp_path / "predict_curve.py").write_text(export.to_python(model))
    np.save(tmp_path / "X.npy", X)
    wanted = expected(model, X)
    script = (
        "import sys; sys.modules['mlpfit'] = None\n"  # any import of mlpfit fails, installed or not
        "import importlib.util, numpy as np\n"
        "spec = importlib.util.spec_from_file_location('predict_curve', 'predict_curve.py')\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "X = np.load('X.npy')\n"
        f"out = module.predict(X, return_std=True) if {len(wanted) == 2} else (module.predict(X),)\n"
        "np.save('out.npy', np.stack(out))\n"
        "assert not [name for name, module in sys.modules.items() if name.startswith('mlpfit') and module]\n"
    )
    subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, check=True, env={"PATH": os.environ["PATH"]})
    assert_matches(tuple(np.load(tmp_path / "out.npy")), wanted)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")
def test_the_c_header_compiles_and_equals_predict(model, tmp_path):
    X = NEW[:, : n_inputs(model)]
    (tmp_path / "model.h").write_text(export.to_c(model))
    harness = tmp_path / "harness"
    compile = ["cc", "-std=c99", "-Wall", "-Werror", "-pedantic", "-O2", "-DMLPFIT_HARNESS", "-x", "c"]
    subprocess.run([*compile, str(tmp_path / "model.h"), "-lm", "-o", str(harness)], check=True)
    rows = "\n".join(" ".join(repr(float(v)) for v in row) for row in X)
    result = subprocess.run([str(harness)], input=rows, capture_output=True, text=True, check=True)
    printed = np.array([line.split() for line in result.stdout.splitlines()], dtype=np.float64)
    wanted = expected(model, X)
    columns = np.split(printed, len(wanted), axis=1)
    assert_matches(tuple(c.reshape(w.shape) for c, w in zip(columns, wanted)), wanted)


def test_float32_onnx_is_close():
    model = MODELS["gaussian_nll: std"]()
    graph = export.to_onnx(model, dtype="float32")
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    mean, std = session.run(None, {"X": NEW.astype(np.float32)})
    assert mean.dtype == np.float32
    assert_matches((mean.astype(np.float64), std.astype(np.float64)), model.predict(NEW, return_std=True), 1e-5)


def test_dates_are_taken_as_days_since_the_origin():
    import pandas as pd

    days = np.r_[0.0, RNG.uniform(0, 300, 39)]  # the first date is the origin's day
    frame = pd.DataFrame({"when": pd.Timestamp("2024-03-01") + pd.to_timedelta(days, "D"), "x": days / 100})
    model = NeuralRegressor(max_iter=20, random_state=0).fit(frame, np.sin(days / 50) + frame["x"])
    onnx_model = export.to_onnx(model)
    assert "'when': days since 2024-03-01" in onnx_model.doc_string
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    (mean,) = session.run(None, {"X": np.column_stack([days, frame["x"]])})
    assert_matches((mean,), (model.predict(frame),))


def test_a_text_input_is_refused_naming_the_column():
    import pandas as pd

    frame = pd.DataFrame({"x": X2[:, 0], "batch": np.where(X2[:, 1] > 2, "high", "low")})
    model = NeuralRegressor(max_iter=5, random_state=0).fit(frame, Y2[:, 0])
    for to in (export.to_onnx, export.to_python, export.to_c):
        with pytest.raises(ValueError, match=r"input column 'batch' holds text \(categories 'high', 'low'\)"):
            to(model)


def test_other_objects_and_dtypes_are_refused():
    with pytest.raises(ValueError, match="fitted NeuralRegressor or EnsembleRegressor; got LinearRegression"):
        from sklearn.linear_model import LinearRegression

        export.to_python(LinearRegression().fit(X2, Y2[:, 0]))
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'; got 'float16'"):
        export.to_onnx(MODELS["one input, one output"](), dtype="float16")


@pytest.mark.parametrize("steps", ["scaler", "column transformer", "ensemble", "float32"])
def test_skl2onnx_converts_a_pipeline_ending_in_a_model(steps):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    export.register_skl2onnx()
    first = (
        ColumnTransformer([("a", StandardScaler(), [0]), ("b", MinMaxScaler(), [1])])
        if steps == "column transformer"
        else StandardScaler()
    )
    last = ensemble("heteroscedastic", 2) if steps == "ensemble" else NeuralRegressor(max_iter=20, random_state=0)
    pipeline = Pipeline([("first", first), ("model", last)])
    pipeline.fit(X2, Y2[:, :2] if steps == "ensemble" else Y2[:, 0])
    dtype = np.float32 if steps == "float32" else np.float64
    onnx_model = skl2onnx.to_onnx(pipeline, X2[:1].astype(dtype))
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    (predicted,) = session.run(None, {"X": NEW.astype(dtype)})
    wanted = pipeline.predict(NEW)
    assert predicted.dtype == dtype
    assert_matches(
        (predicted.reshape(wanted.shape).astype(np.float64),), (wanted,), 1e-5 if steps == "float32" else 1e-12
    )


def test_skl2onnx_gives_the_std_when_asked():
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    export.register_skl2onnx()
    model = ensemble("homoscedastic")
    pipeline = Pipeline([("scale", StandardScaler()), ("model", model)]).fit(X2, Y2[:, 0])
    onnx_model = skl2onnx.to_onnx(pipeline, X2[:1], options={id(model): {"return_std": True}})
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    mean, std = session.run(None, {"X": NEW})
    assert_matches((mean.ravel(), std.ravel()), pipeline.predict(NEW, return_std=True))
    plain = Pipeline([("scale", StandardScaler()), ("model", NeuralRegressor(max_iter=5))]).fit(X2, Y2[:, 0])
    with pytest.raises(ValueError, match="return_std needs a model with a standard deviation"):
        skl2onnx.to_onnx(plain, X2[:1], options={id(plain.steps[-1][1]): {"return_std": True}})


def test_without_onnx_the_error_names_the_extra(monkeypatch, saved, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'mlpfit\[export\]'"):
        export.to_onnx(saved[1])
    code, _, err = run_main(["export", saved[0] / "model.npz", "-o", tmp_path / "model.onnx"])
    assert code == 1 and "mlpfit[export]" in err and not (tmp_path / "model.onnx").exists()


# --- mlpfit export ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    model = MODELS["gaussian_nll: std"]()
    mlpfit.save(model, folder / "model.npz", columns={"x": ["dose", "age"], "y": ["u", "v"]})
    return folder, model


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name, options", [("model.onnx", []), ("curve.py", []), ("model.txt", ["--format", "c"])])
def test_the_command_writes_each_format(saved, name, options):
    folder, model = saved
    code, out, _ = run_main(["export", folder / "model.npz", "-o", folder / name, *options])
    assert code == 0 and f"written to {folder / name}" in out
    if name.endswith(".onnx"):
        session = ort.InferenceSession(str(folder / name), providers=["CPUExecutionProvider"])
        assert_matches(tuple(session.run(None, {"X": NEW})), model.predict(NEW, return_std=True))
    else:
        text = (folder / name).read_text()
        assert "column 'dose': a number" in text and "column 'age': a number" in text
        assert text == (export.to_python if name.endswith(".py") else export.to_c)(named(model, ["dose", "age"]))


def named(model, names):
    """A copy of ``model`` as fitted on columns ``names``."""
    model = copy.deepcopy(model)
    model.feature_names_in_ = np.asarray(names, dtype=object)
    return model


def test_the_command_refuses_bad_input_in_one_line(saved, tmp_path):
    folder, _ = saved
    cases = {
        "cannot tell the format from": ["export", folder / "model.npz", "-o", tmp_path / "model.bin"],
        "does not exist": ["export", tmp_path / "missing.npz", "-o", tmp_path / "model.onnx"],
        "it is also the model input": ["export", folder / "model.npz", "-o", folder / "model.npz", "--format", "c"],
    }
    for message, argv in cases.items():
        code, _, err = run_main(argv)
        assert code == 2 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "model.bin").exists()


def test_the_command_help_has_an_example():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "mlpfit export model.npz -o model.onnx" in out.getvalue()
