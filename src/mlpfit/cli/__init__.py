"""The ``mlpfit`` command: a thin layer over the public API.

Each command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; :data:`SUMMARIES` lists them. Only the module of the command that runs is
imported (``--version`` and ``--help`` import none, so they answer without loading NumPy, SciPy or
scikit-learn). ``main`` turns a :class:`UsageError`, ``ValueError`` or ``OSError`` into exit code 2 with
one line on stderr and no traceback, a missing optional dependency into exit code 1, and Ctrl-C into
one line and exit code 130 (outputs are written atomically, at the end, so none is half-written).
"""

import argparse
import importlib
import os
import sys

from .. import __version__

SUMMARIES = {
    "fit": "fit a curve to columns of a CSV or Parquet file and save the model",
    "predict": "predict new rows with a saved model",
    "plot": "draw a saved model's fit against data to a PNG",
    "diagnose": "explain what is wrong with a saved model's fit to data, and what to change",
    "report": "write a self-contained HTML report of a saved model's fit to data",
    "info": "describe a saved model",
    "export": "write a saved model as ONNX, a standalone NumPy module or a C header",
    "demo": "fit the origin problem (y = sqrt(x) on raw x) with defaults",
}
"""Command name -> its one-line summary in ``--help``, in the order listed; each is module ``mlpfit.cli.NAME``,
whose own parser gives the same summary (a test checks)."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""
INTERRUPTED = {
    "fit": "no model written",
    "predict": "no predictions written",
    "plot": "no plot written",
    "report": "no report written",
    "export": "no export written",
}
"""What Ctrl-C leaves unwritten, per command that writes."""


def command_module(name):
    """The module of command ``name`` (imported now, if it was not)."""
    return importlib.import_module(f".{name}", __name__)


def __getattr__(name):
    # COMMANDS, the command modules in --help's order, imports all of them: built on first use only.
    if name == "COMMANDS":
        return [command_module(command) for command in SUMMARIES]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_named(argv):
    """The command ``argv`` runs, or None: its first word that is not an option (the top level's options,
    ``--help`` and ``--version``, take no value)."""
    words = [word for word in argv if not word.startswith("-")]
    return words[0] if words and words[0] in SUMMARIES else None


def build_parser(argv=None):
    """The parser of ``argv`` (default ``sys.argv[1:]``): the command it names is built in full, the others
    only as their summary line."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="mlpfit",
        description="Neural-network curve fitting from raw data.",
        epilog="Run 'mlpfit COMMAND --help' for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"mlpfit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _command_named(argv)
    for name, summary in SUMMARIES.items():
        if name == chosen:
            command_module(name).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv=None):
    """Run the command line; return the exit code (0 success, 1 missing optional dependency, 2 bad input,
    3 a fit with problems, 130 interrupted)."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from ._common import UsageError  # the command's module has imported it already

    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader of our output went away (``mlpfit predict ... | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(
            f"mlpfit {args.command}: interrupted; {INTERRUPTED.get(args.command, 'nothing written')}", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    except (UsageError, ValueError, OSError, ImportError) as error:
        print(f"mlpfit {args.command}: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, ImportError) else 2
