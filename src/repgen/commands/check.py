"""`repgen check`: the regression gate. Exit status 1 when a metric got worse than allowed.

repgen check                        # the workspace's metrics against HEAD's
repgen check --against origin/main  # ... against the target branch (CI)
repgen check --md >> "$GITHUB_STEP_SUMMARY"
"""

import argparse
import sys
from pathlib import Path

from repgen import gate


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "check",
        help="compare metrics with a git revision; fail on a regression",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--against",
        default="HEAD",
        metavar="REV",
        help="the git revision to compare with (default: HEAD)",
    )
    parser.add_argument(
        "--tolerances",
        default="gate.yaml",
        metavar="PATH",
        help="the tolerance file, relative to --root (default: gate.yaml)",
    )
    parser.add_argument(
        "--all", action="store_true", help="also list ignored metrics and metrics no rule matches"
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="a metric that REV has and the workspace lacks does not fail",
    )
    parser.add_argument("--md", action="store_true", help="print the table as Markdown")
    return parser


def run(args: argparse.Namespace) -> None:
    root = Path(args.root)
    rules = gate.load_rules(root / args.tolerances)
    before = gate.revision_metrics(root, args.against)
    rows = gate.compare(
        before, gate.workspace_metrics(root), rules, allow_missing=args.allow_missing
    )
    shown = rows if args.all else [r for r in rows if r.status not in ("ignored", "no rule")]
    print(f"metrics: workspace against {args.against}\n")
    print(gate.table(shown, markdown=args.md))
    print(f"\n{gate.summary(rows)}")
    if any(row.fails for row in rows):
        sys.exit(1)
