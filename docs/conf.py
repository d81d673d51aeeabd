"""Sphinx configuration: the user guide and the API reference generated from the docstrings.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build`` (the ``docs`` extra);
``tests/test_docs.py`` runs the same build with warnings as errors.
"""

import sys
from pathlib import Path

# Document the checkout these pages sit in, not whichever mlpfit happens to be installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import mlpfit  # noqa: E402

project = "mlpfit"
author = "the mlpfit authors"
copyright = "the mlpfit authors, BSD-3-Clause"
release = version = mlpfit.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc"]

# Markdown files in this folder (model-format.md) are included as text, not built as pages.
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]

# Fast and offline: no intersphinx, no notebooks, the builtin theme.
html_theme = "alabaster"
html_theme_options = {"description": "Neural-network curve fitting that works on raw data", "fixed_sidebar": True}
html_static_path = []

autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
