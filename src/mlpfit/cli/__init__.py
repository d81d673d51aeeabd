"""The ``mlpfit`` command: a thin layer over the public API.

Each command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; :data:`COMMANDS` lists them. ``main`` turns a
:class:`UsageError` or ``ValueError`` into exit code 2 with one line on stderr and
no traceback.
"""

import argparse
import sys

from .. import __version__
from . import demo

COMMANDS = [demo]
"""Command modules, in the order ``--help`` lists them."""


class UsageError(Exception):
    """A problem with the user's input that ends the command with exit code 2."""


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
    """Run the command line; return the exit code (0 success, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, ValueError, OSError) as error:
        print(f"mlpfit {args.command}: error: {error}", file=sys.stderr)
        return 2
