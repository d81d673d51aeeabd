"""The codebase's shape: no module reads another module's objects' private state."""

import ast
import pathlib

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "src" / "mlpfit"
OWN_NAMES = {"self", "cls"}
"""Receivers whose private attributes a module may touch: its own instance and class."""
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make"}
"""Public methods of named tuples despite their underscore."""


def private_accesses(tree, folder=SOURCE):
    """``(line, text)`` of every ``x._name`` (x not self/cls), ``getattr(x, "_name")`` and import of another
    module's private name in ``tree``, a module in ``folder``.

    Private modules (``from . import _network``) are the package's own layout, not an object's state:
    reaching their public names (``_network.forward``) is not counted, reaching their private ones is.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            package = folder.parents[node.level - 2] if node.level > 1 else folder
            package = package.joinpath(*(node.module or "").split(".")) if node.module else package
            found += [
                (node.lineno, ast.unparse(node))
                for alias in node.names
                if alias.name.startswith("_")
                and not alias.name.startswith("__")
                and not (package / f"{alias.name}.py").exists()
            ]
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            receiver = node.value
            if isinstance(receiver, ast.Name) and receiver.id in OWN_NAMES or node.attr in NAMEDTUPLE_API:
                continue
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "hasattr", "setattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.startswith("_"):
                found.append((node.lineno, ast.unparse(node)))
    return found


MODULES = sorted(path for path in SOURCE.rglob("*.py") if path.name != "estimator.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SOURCE)))
def test_no_module_touches_private_attributes_of_other_objects(path):
    accesses = private_accesses(ast.parse(path.read_text()), path.parent)
    assert not accesses, f"{path.name} reaches into private state: {accesses}"


def test_the_check_finds_what_it_looks_for():
    tree = ast.parse(
        "from . import _network\nfrom ._plan import _lm_affordable\nmodel._y_ndim\n"
        "getattr(model, '_parameter_constraints')\nself._own\nrow._replace(a=1)\n"
    )
    assert [text for _, text in private_accesses(tree)] == [
        "from ._plan import _lm_affordable",
        "model._y_ndim",
        "getattr(model, '_parameter_constraints')",
    ]
