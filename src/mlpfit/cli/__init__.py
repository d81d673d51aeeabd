"""The ``mlpfit`` command: a thin layer over the public API.

Each command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; :data:`COMMANDS` lists them. ``main`` turns a
:class:`UsageError`, ``ValueError`` or ``OSError`` into exit code 2 with one line on
stderr and no traceback, a missing optional dependency into exit code 1, and Ctrl-C into
one line and exit code 130 (outputs are written atomically, at the end, so none is half-written).
"""

import argparse
import os
import sys

from .. import __version__
from . import demo, diagnose, fit, info, plot, predict
from ._common import UsageError

COMMANDS = [fit, predict, plot, diagnose, info, demo]
"""Command modules, in the order ``--help`` lists them."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""
INTERRUPTED = {"fit": "no model written", "predict": "no predictions written", "plot": "no plot written"}
"""What Ctrl-C leaves unwritten, per command that writes."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mlpfit",
        description="Neural-network curve fitting from raw data.",
        epilog="Run 'mlpfit COMMAND --help' for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"mlpfit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    """Run the command line; return the exit code (0 success, 1 missing optional dependency, 2 bad input,
    3 a fit with problems, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
