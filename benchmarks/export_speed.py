"""Rows per second of a model's four ways to predict: ``predict``, its ONNX graph in onnxruntime, the NumPy module
of ``mlpfit.export.to_python`` and the C function of ``mlpfit.export.to_c`` compiled with ``cc -O2``, side by side.

The model is the origin problem's default fit (``NeuralRegressor(random_state=0)`` on ``make_origin``), or with
``--ensemble`` an ``EnsembleRegressor`` of five (mean and std). Each way predicts the same random rows; a call is
repeated until ``--min-time`` seconds have passed, best of three such rounds, so the figure is rows per second of
one call on that many rows (including onnxruntime's and ctypes' per-call overhead). One thread throughout
(``OPENBLAS_NUM_THREADS=1``, onnxruntime's intra- and inter-op threads 1). The ratio is to ``predict``.

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/export_speed.py [--rows 1,1000,1000000] [--ensemble]
"""

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time
import warnings

import numpy as np

from mlpfit import EnsembleRegressor, NeuralRegressor, export
from mlpfit.datasets import make_origin

WRAPPER = """#include "model.h"
void run(const double *X, size_t n_rows, double *mean{std}) {{ predict(X, n_rows, mean{std_name}); }}
"""
"""A C file exporting the header's static ``predict`` from a shared library, for ctypes."""


def fitted(ensemble):
    X, y = make_origin(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = EnsembleRegressor(random_state=0) if ensemble else NeuralRegressor(random_state=0)
        return model.fit(X, y), X


def onnx_predictor(model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    graph = export.to_onnx(model).SerializeToString()
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    return lambda X: session.run(None, {"X": X})


def numpy_predictor(model):
    namespace = {}
    exec(compile(export.to_python(model), "predict_curve.py", "exec"), namespace)
    return namespace["predict"]


def c_predictor(model, folder, has_std):
    """The compiled header's ``predict`` through ctypes, or None without a C compiler."""
    if shutil.which("cc") is None:
        return None
    with open(os.path.join(folder, "model.h"), "w") as file:
        file.write(export.to_c(model))
    with open(os.path.join(folder, "run.c"), "w") as file:
        file.write(WRAPPER.format(std=", double *std" if has_std else "", std_name=", std" if has_std else ""))
    library = os.path.join(folder, "model.so")
    subprocess.run(["cc", "-std=c99", "-O2", "-shared", "-fPIC", "run.c", "-lm", "-o", library], cwd=folder, check=True)
    run = ctypes.CDLL(library).run
    run.argtypes = [ctypes.c_void_p, ctypes.c_size_t] + [ctypes.c_void_p] * (1 + has_std)

    def predict(X):
        outputs = [np.empty(len(X)) for _ in range(1 + has_std)]
        run(X.ctypes.data, len(X), *(out.ctypes.data for out in outputs))
        return outputs

    return predict


def rows_per_second(predict, X, min_time):
    best = np.inf
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < min_time or calls == 0:
            predict(X)
            calls += 1
        best = min(best, elapsed / calls)
    return len(X) / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1,1000,1000000", help="comma-separated row counts")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds of calls per round")
    parser.add_argument("--ensemble", action="store_true", help="an EnsembleRegressor of five, mean and std")
    args = parser.parse_args()
    model, X_train = fitted(args.ensemble)
    has_std = args.ensemble
    with tempfile.TemporaryDirectory() as folder:
        module = numpy_predictor(model)
        ways = {
            "predict": (lambda X: model.predict(X, return_std=True)) if has_std else model.predict,
            "onnxruntime": onnx_predictor(model),
            "numpy module": (lambda X: module(X, return_std=True)) if has_std else module,
            "C (ctypes)": c_predictor(model, folder, has_std),
        }
        ways = {name: way for name, way in ways.items() if way is not None}
        rng = np.random.default_rng(0)
        low, high = X_train.min(), X_train.max()
        print(f"model: {type(model).__name__}, rows/s (ratio to predict), best of 3 rounds of {args.min_time}s")
        print(f"{'rows':>9} " + " ".join(f"{name:>24}" for name in ways))
        for n_rows in map(int, args.rows.split(",")):
            X = rng.uniform(low, high, (n_rows, X_train.shape[1]))
            speeds = {name: rows_per_second(way, X, args.min_time) for name, way in ways.items()}
            cells = [f"{speed:>14.3g} ({speed / speeds['predict']:>6.2f})" for speed in speeds.values()]
            print(f"{n_rows:>9} " + " ".join(f"{cell:>24}" for cell in cells))


if __name__ == "__main__":
    main()
