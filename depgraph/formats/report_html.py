"""The audit report as one self-contained HTML page (HTML Living Standard; nothing fetched).

The library verdicts with their evidence, the picture (``picture``, drawn by Graphviz as inline
SVG), the ranked dependents (a table sortable by column and filterable by risk, role and text, by
``report_html.js``), the processes still running old code, and the plan as a checklist. The CSS
and the script are inlined from the files beside this module. Without Graphviz the page is
written without the picture and says why (the command warns on stderr too).
"""

from __future__ import annotations

from html import escape
from importlib import resources

from depgraph import __version__
from depgraph.audit import AuditReport, Dependent
from depgraph.formats import report_text
from depgraph.formats.picture import DEFAULT_MAX_NODES, caption, picture_of_report, to_dot
from depgraph.remediation import Step
from depgraph.risk import Level

NO_GRAPHVIZ = (
    "The picture needs Graphviz's 'dot', which is not installed (apt-get install graphviz)."
)


def _asset(name: str) -> str:
    return resources.files("depgraph.formats").joinpath(name).read_text(encoding="utf-8")


def render_report(
    report: AuditReport,
    steps: tuple[Step, ...],
    *,
    color: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> str:
    """The whole page (``color`` is for terminals and has no meaning here)."""
    title = report_text.title(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>depgraph: {escape(title)}</title>",
        f"<style>\n{_asset('report_html.css')}</style>",
        "</head>",
        "<body>",
        f'<header class="level-{report.highest.value}">',
        f"<h1>{escape(title)}</h1>",
        f'<p class="summary">{escape(report_text.summary_line(report))}</p>',
        "</header>",
        "<main>",
        *_library(report),
        *_picture(report, max_nodes, fold_depth),
        *_dependents(report),
        *_processes(report),
        *_plan(steps),
        "</main>",
        *_footer(report),
        f"<script>\n{_asset('report_html.js')}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _library(report: AuditReport) -> list[str]:
    parts = ['<section id="library">', "<h2>Library</h2>"]
    for verdict in report.libraries:
        version = f" {verdict.version}" if verdict.version else ""
        arch = f" [{verdict.architecture}]" if verdict.architecture else ""
        how = f" by {verdict.decided_by}" if verdict.decided_by else ""
        parts.append(f'<article class="verdict state-{escape(verdict.state.value)}">')
        parts.append(
            f"<h3>{escape(verdict.package + version + arch)}: "
            f'<span class="state">{escape(verdict.state.value.upper())}</span>{escape(how)}</h3>'
        )
        if verdict.reason:
            parts.append(f"<p>{escape(verdict.reason)}</p>")
        if verdict.evidence:
            parts.append('<ul class="evidence">')
            for evidence in verdict.evidence:
                where = ""
                if evidence.path:
                    line = f":{evidence.line}" if evidence.line else ""
                    where = f" <code>{escape(report_text.shown(evidence.path) + line)}</code>"
                parts.append(
                    f"<li><b>{escape(evidence.kind)}</b>: {escape(evidence.detail)}{where}</li>"
                )
            parts.append("</ul>")
        parts.extend(f'<p class="conflict">{escape(c)}</p>' for c in verdict.conflicts)
        parts.append("</article>")
    if not report.installed:
        parts.append(f"<p>{escape(report_text.library_lines(report)[-1])}</p>")
    parts.append("</section>")
    return parts


def _picture(report: AuditReport, max_nodes: int | None, fold_depth: int | None) -> list[str]:
    from depgraph.formats.graphviz import dot_program, draw, inline_svg

    if not report.installed:
        return []
    picture = picture_of_report(report, max_nodes=max_nodes, fold_depth=fold_depth)
    parts = ['<section id="graph">', "<h2>Who reaches the library</h2>"]
    if dot_program() is None:
        parts += [f'<p class="notice">{escape(NO_GRAPHVIZ)}</p>', "</section>"]
        return parts
    svg = draw(to_dot(picture, legend=False), "svg").decode("utf-8")
    legend = "".join(f'<span class="risk-{level.value}">{level.value}</span>' for level in Level)
    parts += [
        "<figure>",
        inline_svg(svg),
        f"<figcaption>{escape(caption(picture))}. "
        f'<span class="legend">Fill by risk: {legend}</span> '
        "Shape by role: box server (bold), ellipse client, hexagon no TLS, dashed box unknown; "
        "double octagon: the library, filled by its fix state. Hover a package for why.</figcaption>",
        "</figure>",
        "</section>",
    ]
    return parts


def _dependents(report: AuditReport) -> list[str]:
    if not report.dependents:
        return ['<section id="dependents">', "<h2>Dependents</h2>", "<p>None.</p>", "</section>"]
    levels = [
        level.value for level in Level if any(d.risk.level is level for d in report.dependents)
    ]
    roles = sorted({d.role.role.value for d in report.dependents})
    parts = [
        '<section id="dependents">',
        "<h2>Dependents, most at risk first</h2>",
        '<div class="filters">',
        '<label>Risk <select id="risk-filter"><option value="">all</option>'
        + "".join(f'<option value="{v}">{v}</option>' for v in levels)
        + "</select></label>",
        '<label>Role <select id="role-filter"><option value="">all</option>'
        + "".join(f'<option value="{v}">{v}</option>' for v in roles)
        + "</select></label>",
        '<label>Find <input type="search" id="text-filter" placeholder="package, reason"></label>',
        '<span id="shown-count"></span>',
        "</div>",
        '<div class="table-wrap">',
        '<table id="dependents-table">',
        "<thead><tr>"
        '<th data-type="number" aria-sort="descending">Risk</th><th>Package</th><th>Version</th>'
        "<th>Role</th><th>Running</th><th>Why</th><th>Relationship</th>"
        "</tr></thead>",
        "<tbody>",
    ]
    parts.extend(_row(dependent, report) for dependent in report.dependents)
    parts += ["</tbody>", "</table>", "</div>", "</section>"]
    return parts


def _row(dependent: Dependent, report: AuditReport) -> str:
    node, role, risk = dependent.node, dependent.role, dependent.risk
    level = risk.level.value
    via = ""
    if not node.direct:
        via = f'<div class="via">via {escape(" > ".join(node.path[1:-1]))}</div>'
    confidence = f" ({role.confidence:.0%})" if role.confidence else ""
    cells = [
        f'<td data-value="{risk.score}"><span class="risk risk-{level}">{risk.shown}</span></td>',
        f'<td class="package" data-value="{escape(node.package)}"><b>{escape(node.package)}</b>'
        f"{via}</td>",
        f'<td class="version">{escape(node.version or "-")}</td>',
        f"<td>{escape(role.role.value)}{escape(confidence)}"
        f'<div class="via">{escape(role.component.value)}</div></td>',
        f"<td>{escape(report_text.running(dependent, report))}</td>",
        f'<td class="reasons">{escape("; ".join(risk.reasons))}</td>',
        f"<td><code>{escape(dependent.relation)}</code></td>",
    ]
    return (
        f'<tr data-risk="{level}" data-role="{escape(role.role.value)}">' + "".join(cells) + "</tr>"
    )


def _processes(report: AuditReport) -> list[str]:
    unreadable = report_text.unreadable_line(report)
    parts = [f'<p class="partial">{escape(unreadable)}</p>'] if unreadable else []
    lines = report_text.process_lines(report)
    if not lines:
        return parts
    return [
        *parts,
        '<section id="processes">',
        f"<h2>{escape(report_text.process_heading(report))}</h2>",
        "<ul>",
        *(f"<li>{escape(line)}</li>" for line in lines),
        "</ul>",
        "</section>",
    ]


def _plan(steps: tuple[Step, ...]) -> list[str]:
    if not steps:
        return []
    parts = ['<section id="plan">', "<h2>What to do now</h2>", '<ol class="checklist">']
    for step in steps:
        commands = "".join(f"<pre><code>{escape(c)}</code></pre>" for c in step.commands)
        parts.append(
            f'<li data-step="{escape(step.step)}"><label><input type="checkbox"> '
            f"<span><b>{escape(step.step)}</b>: {escape(step.text)}</span></label>{commands}</li>"
        )
    parts += ["</ol>", "</section>"]
    return parts


def _footer(report: AuditReport) -> list[str]:
    parts = ["<footer>"]
    if report.runtime_note:
        parts.append(f"<p>{escape(report.runtime_note)}</p>")
    if report.warnings:
        parts.append(f"<details><summary>{len(report.warnings)} warnings</summary><ul>")
        parts.extend(f"<li>{escape(w)}</li>" for w in report.warnings)
        parts.append("</ul></details>")
    parts.append(f"<p>depgraph {escape(__version__)}, profile {escape(report.profile.id)}</p>")
    parts.append("</footer>")
    return parts
