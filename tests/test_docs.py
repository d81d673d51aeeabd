"""The documentation builds with Sphinx, warnings as errors, and its API pages name the public objects."""

import re
import subprocess
import sys
from pathlib import Path

import mlpfit

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_without_warnings_and_document_the_public_api(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(ROOT / "docs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"

    api = (tmp_path / "api.html").read_text()
    documented = set(re.findall(r'id="(mlpfit\.[\w.]+)"', api))
    missing = {f"mlpfit.{name}" for name in mlpfit.__all__} - documented
    assert not missing, f"the API reference leaves out {sorted(missing)}"
    for method in ("fit", "predict", "piecewise_linear"):
        assert f"mlpfit.NeuralRegressor.{method}" in documented
    for method in ("fit", "predict", "predict_interval", "log_likelihood"):
        assert f"mlpfit.EnsembleRegressor.{method}" in documented
    text = re.sub(r"<[^>]+>", "", api)
    for parameter in ("hidden_layer_sizes", "n_averaged", "noise", "coverage"):
        assert parameter in text, f"the API reference does not mention the parameter {parameter}"


def test_user_guide_pages_are_built():
    index = (ROOT / "docs" / "index.rst").read_text()
    pages = {path.stem for path in (ROOT / "docs").glob("*.rst")} - {"index"}
    listed = set(re.findall(r"^   ([\w-]+)$", index, flags=re.MULTILINE))
    assert pages == listed, f"pages not in the index's toctree: {sorted(pages - listed)}"
    assert "model-format.md" in (ROOT / "docs" / "saving.rst").read_text()
