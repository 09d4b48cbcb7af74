"""Subcommands of `repgen`: each module defines `add_parser(subparsers)` and `run(args)`."""
