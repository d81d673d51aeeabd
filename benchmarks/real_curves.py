"""Curves of one variable from real measurements: mlpfit's defaults against one network, 30 units and sklearn.

The synthetic curves of ``benchmarks/accuracy.py`` have a known truth; these do not, so the error is the
cross-validated RMSE (5 repeats of shuffled 10-fold CV, mean over repeats). The pairs come from the
tables bundled with scikit-learn (no download), one input column predicting another (or the target):

- iris (150 rows): sepal length -> petal length; petal length -> petal width;
- wine (178 rows): alcohol -> proline; flavanoids -> OD280/OD315;
- breast cancer (569 rows): mean radius -> mean area; mean texture -> worst texture;
- diabetes (442 rows): BMI -> disease progression; s5 -> disease progression.

Systems, side by side in one run, one BLAS thread: mlpfit defaults (the mean of two networks, each with as
many units as its forward selection of hinges keeps, at least 5); the same with one network
(n_averaged=1); mlpfit with a fixed 30 units (the hinges the selection does not keep start free; the
default before the width was selected; two networks averaged); scikit-learn's MLPRegressor (lbfgs) in the
scaled pipeline of ``benchmarks/accuracy.py``. Printed: CV RMSE per pair and system, and each system's
error relative to the pipeline's, with the geometric mean over the pairs.

Usage: python benchmarks/real_curves.py [--repeats 5]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import _sklearn_pipeline  # noqa: E402

PAIRS = [
    (load_iris, "sepal length (cm)", "petal length (cm)"),
    (load_iris, "petal length (cm)", "petal width (cm)"),
    (load_wine, "alcohol", "proline"),
    (load_wine, "flavanoids", "od280/od315_of_diluted_wines"),
    (load_breast_cancer, "mean radius", "mean area"),
    (load_breast_cancer, "mean texture", "worst texture"),
    (load_diabetes, "bmi", "target"),
    (load_diabetes, "s5", "target"),
]
"""(loader, input column, output column or "target")."""
SYSTEMS = {
    "mlpfit defaults": lambda seed: NeuralRegressor(random_state=seed),
    "mlpfit one network": lambda seed: NeuralRegressor(n_averaged=1, random_state=seed),
    "mlpfit 30 units": lambda seed: NeuralRegressor(30, random_state=seed),
    "sklearn lbfgs pipeline": lambda seed: _sklearn_pipeline("lbfgs", seed),
}
REFERENCE = "sklearn lbfgs pipeline"


def load_pair(loader, x_name, y_name):
    bunch = loader()
    columns = list(bunch.feature_names)
    y = bunch.target if y_name == "target" else bunch.data[:, columns.index(y_name)]
    return bunch.data[:, [columns.index(x_name)]], y.astype(float)


def cv_rmse(make, X, y, repeats):
    errors = []
    for repeat in range(repeats):
        predictions = np.empty_like(y)
        for train, test in KFold(10, shuffle=True, random_state=repeat).split(X):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                predictions[test] = make(repeat).fit(X[train], y[train]).predict(X[test])
        errors.append(np.sqrt(np.mean((predictions - y) ** 2)))
    return float(np.mean(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"real curves: {args.repeats} x 10-fold CV RMSE; ratio = error / the sklearn lbfgs pipeline's\n")
    print("| pair | rows | " + " | ".join(SYSTEMS) + " |")
    print("|---|---|" + "---|" * len(SYSTEMS))
    log_ratios = {name: [] for name in SYSTEMS}
    with threadpool_limits(1):
        for loader, x_name, y_name in PAIRS:
            X, y = load_pair(loader, x_name, y_name)
            errors = {name: cv_rmse(make, X, y, args.repeats) for name, make in SYSTEMS.items()}
            for name, error in errors.items():
                log_ratios[name].append(np.log(error / errors[REFERENCE]))
            cells = " | ".join(f"{error:.4g} ({error / errors[REFERENCE]:.3f})" for error in errors.values())
            print(f"| {loader.__name__[5:]}: {x_name} -> {y_name} | {len(y)} | {cells} |", flush=True)
    means = " | ".join(f"{np.exp(np.mean(logs)):.3f}" for logs in log_ratios.values())
    print(f"| geometric mean of the ratios | | {means} |")


if __name__ == "__main__":
    main()
