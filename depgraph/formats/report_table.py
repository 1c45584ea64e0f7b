"""The audit report for a terminal: the library verdict, the ranked dependents (tabulate, 80
columns, long cells wrapped) and the plan. Colour only when asked (a terminal without NO_COLOR)."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from depgraph.audit import AuditReport
from depgraph.formats import report_text
from depgraph.formats.escape import block, terminal
from depgraph.remediation import Step
from depgraph.risk import Level

WIDTHS = (8, 20, 12, 7, 7, 16)
WIDTH = 80
HEADERS = ("risk", "package", "version", "role", "running", "main reason")
_COLORS = {Level.CRITICAL: "\033[1;31m", Level.HIGH: "\033[31m", Level.MEDIUM: "\033[33m"}


def render_report(report: AuditReport, steps: tuple[Step, ...], *, color: bool = False) -> str:
    lines = [*_wrap(report_text.title(report)), ""]
    for line in report_text.library_lines(report):
        lines += _wrap(line)
    if report.dependents:
        rows = []
        for dependent in report.dependents:
            level = dependent.risk.level
            shown = dependent.risk.shown
            if color and level in _COLORS:
                shown = f"{_COLORS[level]}{shown}\033[0m"
            rows.append(
                (
                    shown,
                    report_text.package_cell(dependent),
                    terminal(dependent.node.version or "-"),
                    dependent.role.role.value,
                    report_text.running(dependent, report),
                    terminal(dependent.risk.reasons[-1] if dependent.risk.reasons else ""),
                )
            )
        table = tabulate(rows, headers=HEADERS, tablefmt="simple", maxcolwidths=list(WIDTHS))
        lines += ["", table]
        legend = report_text.unknown_legend(report)
        if legend:
            lines += _wrap(legend)
    if report.runtime_note:
        lines += ["", *_wrap(report.runtime_note)]
    unreadable = report_text.unreadable_line(report)
    if unreadable:
        lines += ["", *_wrap(unreadable)]
    processes = report_text.process_lines(report)
    if processes:
        lines += ["", *_wrap(f"{report_text.process_heading(report)}:")]
        for line in processes:
            lines += _wrap(f"  {line}")
    if steps:
        lines += ["", "What to do now:"]
        for line in report_text.plan_lines(steps):
            lines += _wrap(line)
    lines += ["", *_wrap(report_text.summary_line(report))]
    return "\n".join(lines) + "\n"


def _wrap(line: str) -> list[str]:
    """80 columns, continuation lines indented past the line's own indent (commands are kept
    whole: a wrapped command cannot be pasted)."""
    line = block(line)  # the data in it escaped (report_text escapes the fields themselves)
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if len(line) <= WIDTH or stripped.startswith("$ "):
        return [line]
    more = indent + ("   " if stripped[:1].isdigit() else "  ")
    return textwrap.wrap(
        stripped, WIDTH, initial_indent=indent, subsequent_indent=more, break_on_hyphens=False
    )
