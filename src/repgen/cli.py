"""The `repgen` command: use what the pipeline made.

    repgen --help
    repgen <command> --help

Each subcommand lives in repgen/commands/<name>.py with `add_parser(subparsers)`, which
registers its arguments, and `run(args)`; errors are one line on stderr, exit status 2.
"""

import argparse
import importlib
import sys

from repgen.errors import run_main

# Modules under repgen.commands, in the order `repgen --help` lists them.
COMMANDS: list[str] = ["check", "sample", "upscale", "denoise"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repgen", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the project folder (default: .)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"repgen.commands.{name}")
        module.add_parser(subparsers).set_defaults(run=module.run)
    return parser


def _main(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    args.run(args)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `repgen` console script."""
    run_main(_main, sys.argv[1:] if argv is None else argv)
