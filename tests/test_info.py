"""``mlpfit info`` reads a model file without scikit-learn, prints what the loaded model would say, and refuses a
damaged or crafted file as ``load`` does."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, io
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(4)
X = RNG.normal(size=(40, 2))
Y = np.c_[X[:, 0] ** 2, X[:, 1]]
MODELS = {
    "network, named columns": (NeuralRegressor(max_iter=10, random_state=0), Y[:, 0], {"x": ["a", "b"], "y": ["t"]}),
    "ensemble, homoscedastic": (
        EnsembleRegressor(NeuralRegressor((4,), max_iter=10), n_estimators=2, noise="homoscedastic", random_state=0),
        Y,
        None,
    ),
}


@pytest.fixture(scope="module", params=MODELS)
def saved(request, tmp_path_factory):
    model, y, columns = MODELS[request.param]
    path = tmp_path_factory.mktemp("info") / "model.npz"
    mlpfit.save(model.fit(X, y), path, columns=columns)
    return path


def lines_of_the_loaded_model(path):
    """What ``info`` printed when it loaded the estimator: the lines built from the loaded model's attributes."""
    model, metadata = io.load_with_metadata(path)
    columns = metadata["columns"] or {}
    members = getattr(model, "estimators_", [model])
    lines = [
        f"format: mlpfit-model version {io.FORMAT_VERSION} (written by mlpfit {mlpfit.__version__})",
        f"model: {type(model).__name__}",
        f"inputs ({model.n_features_in_}): {', '.join(columns.get('x') or []) or 'unnamed'}",
        f"outputs ({model.n_outputs_}): {', '.join(columns.get('y') or []) or 'unnamed'}",
    ]
    if len(members) > 1:
        lines.append(f"ensemble: {len(members)} networks, noise {model.noise}")
    arch = members[0].architecture_
    lines.append(
        f"layers: {' -> '.join(map(str, arch.layer_sizes))}, activation {arch.activation}, "
        f"{arch.n_params} weights and biases"
    )
    lines.append(f"parameters: {', '.join(f'{k}={v}' for k, v in sorted(metadata['model']['params'].items()))}")
    for i, member in enumerate(members):
        lines.append(f"{f'training (member {i})' if len(members) > 1 else 'training'}: {member.summary_}")
        lines += filter(None, [member.fitted_.penalty_line()])
    return lines + str(members[0].plan_).splitlines()


def test_info_prints_what_the_loaded_model_says(saved, capsys):
    assert main(["info", str(saved)]) == 0
    assert capsys.readouterr().out.splitlines() == lines_of_the_loaded_model(saved)


def test_info_shows_the_test_split_the_file_records(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "".join(f"{x},{x * x}\n" for x in range(20)))
    argv = ["fit", data, "--x", "x", "--y", "y", "--hidden", "3", "--max-iter", "5", "-q", "-o", tmp_path / "m.npz"]
    assert main([*map(str, argv), "--test-fraction", "0.25", "--seed", "3"]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    assert (
        f"test split: 0.25 of the 20 usable rows of d.csv held out, seed 3 (data SHA-256 {digest}); 'mlpfit report' "
        "assesses them given that file"
    ) in capsys.readouterr().out.splitlines()


def run_python(code, *args):
    source = os.path.dirname(os.path.dirname(mlpfit.__file__))
    env = {**os.environ, "PYTHONPATH": source}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)


def test_info_does_not_import_scikit_learn(saved):
    code = "import sys; from mlpfit.cli import main; main(['info', sys.argv[1]]); print('sklearn' in sys.modules)"
    result = run_python(code, str(saved))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("format: mlpfit-model")
    assert result.stdout.splitlines()[-1] == "False"


def rewritten(source, target, change):
    with np.load(source) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    change(arrays, metadata)
    np.savez(target, **{io.METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
    return target


def first_state(metadata):
    state = metadata["model"]["state"]
    return state["estimators_"][0]["state"] if "estimators_" in state else state


def prefix(arrays):
    return "estimators_/0/" if "estimators_/0/x_range/min" in arrays else ""


CRAFTED = {
    "newer version": lambda arrays, metadata: metadata.update(format_version=99),
    "unknown class": lambda arrays, metadata: metadata["model"].update({"class": "os.system"}),
    "layer sizes as text": lambda arrays, metadata: first_state(metadata)["network"].update(layer_sizes="2,4,1"),
    "a run without its stop reason": lambda arrays, metadata: first_state(metadata)["runs"][0].pop("stop_reason"),
    "a plan field of the wrong type": lambda arrays, metadata: first_state(metadata)["plan"].update(max_iter="many"),
    "weights of the wrong shape": lambda arrays, metadata: arrays.update(
        {prefix(arrays) + "network/coefs/0": np.ones((7, 7))}
    ),
    "a range upside down": lambda arrays, metadata: arrays.update({prefix(arrays) + "x_range/min": np.full(2, 9e9)}),
    "an extra entry": lambda arrays, metadata: arrays.update(junk=np.ones(3)),
    "columns of the wrong length": lambda arrays, metadata: metadata.update(columns={"x": ["a"], "y": None}),
}


@pytest.mark.parametrize("change", CRAFTED)
def test_a_crafted_file_is_refused_by_info_in_one_line_as_load_refuses_it(saved, tmp_path, capsys, change):
    path = rewritten(saved, tmp_path / "bad.npz", CRAFTED[change])
    with pytest.raises(ValueError) as loaded:
        mlpfit.load(path)
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"mlpfit info: error: {loaded.value}\n"


def test_a_file_that_is_no_model_is_refused_by_info_without_scikit_learn(tmp_path):
    (tmp_path / "m.npz").write_text("x,y\n1,2\n")
    code = "import sys; from mlpfit.cli import main; print(main(['info', sys.argv[1]]), 'sklearn' in sys.modules)"
    result = run_python(code, str(tmp_path / "m.npz"))
    assert result.stdout == "2 False\n"
    assert result.stderr.startswith(f"mlpfit info: error: {tmp_path / 'm.npz'} is not an mlpfit model file: it is not")
    assert result.stderr.count("\n") == 1
