"""The error of a float32 ONNX export (``mlpfit.export.to_onnx(model, dtype="float32")``) against ``predict``.

Five models (the origin problem's default fit and a tanh (20, 20) one, a default fit and a default
``EnsembleRegressor`` on three inputs, a ``target_transform="log"`` fit), each predicting ``--rows`` random rows
within its training range in float32 in onnxruntime. Per output: the median and largest relative error, and the
largest error over the output's largest magnitude (relative errors grow without bound where a prediction crosses
zero; this one does not).

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/export_float32.py [--rows 10000]
"""

import argparse
import warnings

import numpy as np
import onnxruntime

from mlpfit import EnsembleRegressor, NeuralRegressor, export
from mlpfit.datasets import make_origin


def models():
    """Name -> (fitted model, its training X)."""
    X, y = make_origin(random_state=0)
    rng = np.random.default_rng(0)
    X3 = rng.uniform(0, 10, (400, 3))
    y3 = np.sin(X3[:, 0]) * X3[:, 1] + np.log1p(X3[:, 2]) + 0.1 * rng.normal(size=400)
    return {
        "origin default": (NeuralRegressor(random_state=0).fit(X, y), X),
        "origin tanh (20, 20)": (
            NeuralRegressor(random_state=0, activation="tanh", hidden_layer_sizes=(20, 20)).fit(X, y),
            X,
        ),
        "3 inputs default": (NeuralRegressor(random_state=0).fit(X3, y3), X3),
        "3 inputs ensemble": (EnsembleRegressor(random_state=0).fit(X3, y3), X3),
        "log target": (NeuralRegressor(random_state=0, target_transform="log").fit(X, y + 1), X),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = models()
    rng = np.random.default_rng(0)
    print(f"{'model':22} {'output':6} {'median rel':>10} {'max rel':>9} {'max/scale':>9}")
    for name, (model, X) in fitted.items():
        X = rng.uniform(X.min(axis=0), X.max(axis=0), (args.rows, X.shape[1]))
        session = onnxruntime.InferenceSession(export.to_onnx(model, dtype="float32").SerializeToString())
        outputs = session.run(None, {"X": X.astype(np.float32)})
        wanted = model.predict(X, return_std=True) if len(outputs) == 2 else (model.predict(X),)
        for label, got, value in zip(("mean", "std"), outputs, wanted):
            relative = np.abs(got - value) / np.abs(value)
            scaled = np.abs(got - value).max() / np.abs(value).max()
            print(f"{name:22} {label:6} {np.median(relative):10.1e} {relative.max():9.1e} {scaled:9.1e}")


if __name__ == "__main__":
    main()
