"""The audit report as Markdown, to paste into a ticket."""

from __future__ import annotations

from depgraph.audit import AuditReport
from depgraph.formats import report_text
from depgraph.formats.escape import block, markdown_cell
from depgraph.remediation import Step


def _cell(text: str) -> str:
    """A table cell or a line: the package cell's own newline as a space, the data escaped."""
    return markdown_cell(text.replace("\n", " "))


def render_report(report: AuditReport, steps: tuple[Step, ...], *, color: bool = False) -> str:
    lines = [
        f"## {_cell(report_text.title(report))}",
        "",
        f"**{report_text.summary_line(report)}**",
    ]
    lines += ["", "### Library", ""]
    lines += [f"    {line}" for line in report_text.library_lines(report)]
    if report.dependents:
        lines += ["", "### Dependents, most at risk first", ""]
        lines.append("| risk | package | version | role | path | running | reason |")
        lines.append("|---|---|---|---|---|---|---|")
        for d in report.dependents:
            cells = (
                d.risk.shown,
                f"`{d.node.package}`",
                d.node.version or "-",
                d.role.role.value,
                " > ".join(d.node.path[1:]),
                report_text.running(d, report),
                "; ".join(d.risk.reasons),
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    unreadable = report_text.unreadable_line(report)
    if unreadable:
        lines += ["", f"_{_cell(unreadable)}_"]
    processes = report_text.process_lines(report)
    if processes:
        lines += ["", f"### {report_text.process_heading(report)}", ""]
        lines += [f"- {_cell(line)}" for line in processes]
    if steps:
        lines += ["", "### What to do now", ""]
        for number, step in enumerate(steps, 1):
            lines.append(f"{number}. **{step.step}**: {_cell(step.text)}")
            lines.extend(f"   - `{command}`" for command in step.commands)
    if report.runtime_note:
        lines += ["", f"_{report.runtime_note}_"]
    return block("\n".join(lines) + "\n")  # what the cells above do not hold, escaped too
