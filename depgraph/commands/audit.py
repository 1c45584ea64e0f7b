"""``depgraph audit``: the whole analysis, ranked, with the plan (contract: ``CLI.md``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.commands import Outcome
from depgraph.commands.graph import add_picture_options
from depgraph.commands.options import (
    FAIL_LEVELS,
    add_profile_options,
    add_source_options,
    input_path,
    profile_of,
    source_options,
)

if TYPE_CHECKING:
    from depgraph.audit import AuditOptions
    from depgraph.diagnostics import Diagnostics

FORMATS = {"table": "report_table", "json": "report_json", "csv": "report_csv"}
FORMATS["markdown"] = "report_markdown"
FORMATS.update(html="report_html", svg="report_svg", openvex="report_openvex")
PICTURES = frozenset(("html", "svg"))
"""Formats that draw the graph (``--max-nodes``, ``--fold-depth``, ``--expand``)."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` to the command line."""
    audit = commands.add_parser(
        "audit",
        help="the whole analysis: fix state, dependents and roles, processes, risk, plan",
        description=(
            "Is the vulnerable library installed and unfixed, who is exposed through it and how "
            "badly, what still runs the old code, and what to do now, most urgent first."
        ),
    )
    add_profile_options(audit)
    add_source_options(audit)
    extra = audit.add_argument_group("more about the audited system")
    extra.add_argument(
        "--release", metavar="NAME", help="the release (wheezy, ubuntu/trusty) if not detected"
    )
    extra.add_argument(
        "--openssl-version", type=input_path, metavar="FILE", help="its saved 'openssl version -a'"
    )
    extra.add_argument(
        "--maps",
        type=input_path,
        metavar="FILE",
        help="its saved 'grep libssl /proc/*/maps' output (instead of this system's /proc)",
    )
    audit.add_argument(
        "--format", choices=list(FORMATS), default="table", help="output format (default: table)"
    )
    audit.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    add_picture_options(audit, "html, svg")
    audit.add_argument(
        "--fail-on",
        choices=FAIL_LEVELS,
        default="high",
        help="exit 1 when a finding is at this level or above (default: high)",
    )
    audit.add_argument(
        "-q", "--quiet", action="store_true", help="print only the summary line (to stdout)"
    )
    audit.set_defaults(run=run)


def audit_options(args: argparse.Namespace) -> AuditOptions:
    """The audit's options from ``depgraph audit``'s parsed arguments."""
    from depgraph.audit import AuditOptions

    return AuditOptions(
        sources=source_options(args),
        profile=profile_of(args),
        release=args.release,
        openssl_output=args.openssl_version,
        maps=args.maps,
    )


def run(args: argparse.Namespace, diagnostics: Diagnostics) -> Outcome:
    """Audit, rank, plan, render; the exit status follows ``--fail-on``."""
    import importlib

    from depgraph.audit import audit
    from depgraph.debian.backend import use_pure
    from depgraph.formats import report_text
    from depgraph.progress import Progress
    from depgraph.remediation import plan
    from depgraph.risk import Level

    if args.pure:
        use_pure()
    extra = _picture_arguments(args, diagnostics)
    diagnostics.progress = Progress.for_terminal(sys.stderr)
    options = audit_options(args)
    try:
        report = audit(options, diagnostics)
    finally:
        diagnostics.progress.done()
    steps = plan(report)
    failing = report.highest.at_least(Level(args.fail_on))
    status = 1 if failing else 0
    summary = report_text.summary_line(report)
    if args.quiet:
        return Outcome(summary + "\n", status)
    if args.format != "table" or args.output is not None:
        diagnostics.summary = summary  # the table ends with it already
    color = (
        args.output is None
        and args.format == "table"
        and sys.stdout.isatty()
        and not os.environ.get("NO_COLOR")
    )
    module = importlib.import_module(f"depgraph.formats.{FORMATS[args.format]}")
    return Outcome(module.render_report(report, steps, color=color, **extra), status)


def _picture_arguments(args: argparse.Namespace, diagnostics: Diagnostics) -> dict[str, int | None]:
    """How much of the graph ``html`` and ``svg`` draw; checks for Graphviz before the audit
    runs (``svg`` cannot do without it; ``html`` goes on without the picture, with a warning)."""
    from depgraph.commands.graph import picture_limits
    from depgraph.formats.graphviz import GraphvizError, dot_program

    if args.format not in PICTURES:
        return {}
    if dot_program() is None:
        if args.format == "svg":
            raise GraphvizError(
                "--format svg needs Graphviz's 'dot', which is not installed (apt-get install graphviz)"
            )
        diagnostics.warn(
            "dot",
            0,
            "Graphviz is not installed: the HTML report has no picture (apt-get install graphviz)",
        )
    max_nodes, fold_depth = picture_limits(args)
    return {"max_nodes": max_nodes, "fold_depth": fold_depth}
