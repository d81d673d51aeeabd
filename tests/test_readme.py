"""The README's commands are the ones CI runs and the ones that work."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^    (python3 -m venv .*)$", readme, flags=re.MULTILINE)
    assert len(commands) == 2, "the README shows exactly two set-up commands"
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci_script.splitlines()
    assert "mlpfit demo" in commands[0]


def test_readme_points_to_files_that_exist():
    """The README keeps the user's story short and sends the rest to docs/ and benchmarks/README.md."""
    readme = (ROOT / "README.md").read_text()
    assert "benchmarks/README.md" in readme and "docs/" in readme
    paths = set(re.findall(r"\b((?:benchmarks|docs|src|tests)/[\w./*-]*[\w])", readme))
    # matched as globs: real_tables*.txt names a family of results files
    missing = [path for path in sorted(paths) if not list(ROOT.glob(path))]
    assert not missing, f"the README names files that do not exist: {missing}"
