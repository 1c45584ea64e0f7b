"""The reverse-dependency graph as a picture: which nodes to draw, what to fold, and the DOT text.

The picture is Graphviz DOT (the DOT language, graphviz.org/doc/info/lang.html; node shapes and
attributes from its "Node Shapes" and "Attributes" pages). The library is drawn on the left, its
dependents to the right of it, every edge pointing at what the dependent needs; the packages a
dependent reaches the library through (its shortest path) are always drawn with it, so
intermediate libraries stay visible. Nodes are filled by risk level (``depgraph.risk``) and shaped
by TLS role (``depgraph.model.Role``); edges are labelled only when they are one alternative of an
OR-group (Debian Policy 7.1) or go through Provides (Policy 7.5).

Large graphs are folded, never cut: the ``max_nodes`` most important nodes are drawn (most at
risk first, then those with most dependents behind them, then the nearest) and every other
dependent is counted in a ``+N more`` node hanging from the nearest drawn node on its path; with
``fold_depth`` nothing deeper than that many relationships is drawn either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from depgraph.model import DependencyGraph, Edge, Node, Role, RoleVerdict
from depgraph.risk import Level

if TYPE_CHECKING:
    from depgraph.audit import AuditReport

DEFAULT_MAX_NODES = 60
"""Drawn nodes when neither ``--max-nodes`` nor ``--expand`` is given: a screen's worth."""

FOLD_NAMES_SHOWN = 12
"""Names of folded packages listed in the ``+N more`` node's tooltip."""

LEVEL_FILL = {
    Level.CRITICAL: ("#d7301f", "white"),
    Level.HIGH: ("#fc8d59", "black"),
    Level.MEDIUM: ("#fee08b", "black"),
    Level.LOW: ("#d9ef8b", "black"),
    Level.NONE: ("#e0e0e0", "black"),
}
"""Fill and font colour of a dependent by risk level (ColorBrewer RdYlGn, red most severe)."""

ROLE_SHAPE = {
    Role.SERVER: ("box", "filled,bold"),
    Role.CLIENT: ("ellipse", "filled"),
    Role.NON_SSL: ("hexagon", "filled"),
    Role.UNKNOWN: ("box", "filled,dashed"),
}
"""Graphviz shape and style of a dependent by TLS role."""

LIBRARY_FILL = {
    "vulnerable": ("#d7301f", "white"),
    "unknown": ("#fdae61", "black"),
    "fixed": ("#1a9641", "white"),
    "fixed-backport": ("#1a9641", "white"),
    "not-affected": ("#1a9641", "white"),
}
"""Fill of a library node by fix state (``depgraph.fixcheck.FixState`` values)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """One package as the picture shows it."""

    package: str
    version: str | None
    depth: int
    path: tuple[str, ...]
    installed: bool = True
    role: Role | None = None
    level: Level | None = None
    state: str | None = None
    """A library's fix state (``vulnerable``, ``fixed``...); None for dependents."""
    note: str = ""
    """The tooltip: the risk's reasons, the role's evidence."""


@dataclass(frozen=True, slots=True)
class Fold:
    """Dependents not drawn, counted under the nearest drawn package on their path."""

    under: str
    count: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """What to draw: nodes (libraries first), virtual packages, edges, folds and a caption."""

    title: str
    marks: tuple[Mark, ...]
    virtual: tuple[str, ...]
    edges: tuple[Edge, ...]
    folds: tuple[Fold, ...]
    dependents: int
    """How many dependents there are in all, drawn or not."""

    @property
    def drawn(self) -> int:
        """How many dependents are drawn."""
        return sum(1 for mark in self.marks if mark.depth > 0)

    @property
    def folded(self) -> int:
        return sum(fold.count for fold in self.folds)


def picture_of_graph(
    graph: DependencyGraph,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> Picture:
    """The picture of a ``depgraph graph`` result (no risk: filled by role only when known)."""
    marks = [_graph_mark(node, graph.roles.get(node.package)) for node in graph.nodes]
    title = f"Reverse dependencies of {', '.join(graph.targets)}"
    return _fold(title, marks, graph.edges, max_nodes, fold_depth)


def picture_of_report(
    report: AuditReport,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> Picture:
    """The picture of an audit: libraries filled by fix state, dependents by risk level."""
    marks = [
        Mark(
            package=verdict.package,
            version=verdict.version,
            depth=0,
            path=(verdict.package,),
            state=verdict.state.value,
            note=verdict.reason,
        )
        for verdict in report.installed
    ]
    for dependent in report.dependents:
        node, role = dependent.node, dependent.role
        note = f"{dependent.risk.level.value}: {'; '.join(dependent.risk.reasons)}"
        note += f" ({role.role.value}, uses {role.component.value})"
        marks.append(
            Mark(
                package=node.package,
                version=node.version,
                depth=node.depth,
                path=node.path,
                installed=node.installed,
                role=role.role,
                level=dependent.risk.level,
                note=note,
            )
        )
    title = f"{report.profile.title.split(':')[0]} ({', '.join(report.profile.cves)})"
    return _fold(title, marks, report.edges, max_nodes, fold_depth)


def select(
    graph: DependencyGraph,
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    fold_depth: int | None = None,
) -> DependencyGraph:
    """The graph reduced to the nodes its picture draws (to classify only those)."""
    from dataclasses import replace

    picture = picture_of_graph(graph, max_nodes=max_nodes, fold_depth=fold_depth)
    drawn = {mark.package for mark in picture.marks}
    nodes = tuple(node for node in graph.nodes if node.package in drawn)
    edges = tuple(e for e in graph.edges if _drawn_end(e.dependent, drawn, picture.virtual))
    return replace(graph, nodes=nodes, edges=edges)


def _drawn_end(name: str, drawn: set[str], virtual: tuple[str, ...]) -> bool:
    return name in drawn or name in virtual


def _graph_mark(node: Node, role: RoleVerdict | None) -> Mark:
    note = ""
    if role is not None:
        note = f"{role.role.value}, uses {role.component.value}"
        note += "".join(f"; {e.kind}: {e.detail}" for e in role.evidence[:2])
    return Mark(
        package=node.package,
        version=node.version,
        depth=node.depth,
        path=node.path,
        installed=node.installed,
        role=role.role if role is not None else None,
        note=note,
    )


def _fold(
    title: str,
    marks: list[Mark],
    edges: Iterable[Edge],
    max_nodes: int | None,
    fold_depth: int | None,
) -> Picture:
    """Choose the marks to draw (with everything on their paths) and count the rest."""
    by_name = {mark.package: mark for mark in marks}
    dependents = [mark for mark in marks if mark.depth > 0]
    below: dict[str, int] = {}
    for mark in dependents:
        for hop in mark.path[1:]:
            below[hop] = below.get(hop, 0) + 1
    kept: dict[str, None] = {mark.package: None for mark in marks if mark.depth == 0}
    budget = max_nodes if max_nodes is not None else len(marks) + len(below)
    ranked = sorted(
        dependents,
        key=lambda m: (
            -(m.level.base if m.level is not None else 0),
            -below.get(m.package, 0),
            m.depth,
            m.package,
        ),
    )
    for mark in ranked:
        if fold_depth is not None and mark.depth > fold_depth:
            continue
        needed = [hop for hop in mark.path if hop not in kept]
        if not needed:
            continue
        if len(kept) + len(needed) > budget:
            continue
        kept.update(dict.fromkeys(reversed(needed)))
    folds: dict[str, list[str]] = {}
    for mark in dependents:
        if mark.package in kept:
            continue
        under = next((hop for hop in mark.path[1:] if hop in kept), mark.path[-1])
        folds.setdefault(under, []).append(mark.package)
    edges = list(edges)
    kept.update(dict.fromkeys(_bridges(edges, kept, by_name)))
    virtual = tuple(sorted(name for name in kept if name not in by_name))
    drawn_edges = [e for e in edges if e.dependent in kept and e.target in kept]
    if not drawn_edges:  # no edges known (or kept): the paths give them
        drawn_edges = _path_edges([by_name[n] for n in kept if n in by_name], set(virtual))
    ordered = sorted((by_name[n] for n in kept if n in by_name), key=lambda m: (m.depth, m.package))
    return Picture(
        title=title,
        marks=tuple(ordered),
        virtual=virtual,
        edges=tuple(drawn_edges),
        folds=tuple(
            Fold(under, len(names), tuple(sorted(names)[:FOLD_NAMES_SHOWN]))
            for under, names in sorted(folds.items())
        ),
        dependents=len(dependents),
    )


def _bridges(edges: list[Edge], kept: dict[str, None], real: dict[str, Mark]) -> list[str]:
    """Virtual packages between two drawn packages (``a`` depends on ``v``, drawn ``b`` Provides
    it) that no shortest path went through: drawn too, so the Provides edge shows."""
    provided = {e.dependent for e in edges if e.kind == "Provides" and e.target in kept}
    return sorted(
        {
            e.target
            for e in edges
            if e.dependent in kept and e.target in provided and e.target not in real
        }
        - set(kept)
    )


def _path_edges(marks: list[Mark], virtual: set[str]) -> list[Edge]:
    found: dict[tuple[str, str], Edge] = {}
    for mark in marks:
        for here, there in zip(mark.path, mark.path[1:], strict=False):
            kind = "Provides" if here in virtual else "Depends"
            found.setdefault((here, there), Edge(here, there, kind))
    return sorted(found.values(), key=lambda e: (e.dependent, e.target))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attributes(**values: str) -> str:
    return "[" + " ".join(f"{key}={_quote(value)}" for key, value in values.items()) + "]"


def _node_line(mark: Mark) -> str:
    label = mark.package + (f"\n{mark.version}" if mark.version else "")
    classes = ["node"]
    if mark.depth == 0:
        fill, font = LIBRARY_FILL.get(mark.state or "", ("#9ecae1", "black"))
        values = {"shape": "doubleoctagon", "style": "filled,bold", "fillcolor": fill}
        values["fontcolor"] = font
        classes.append("library")
        if mark.state:
            classes.append(f"state-{mark.state}")
    else:
        shape, style = (
            ROLE_SHAPE.get(mark.role, ("box", "filled,rounded"))
            if mark.role
            else (
                "box",
                "filled,rounded",
            )
        )
        fill, font = LEVEL_FILL[mark.level] if mark.level is not None else ("white", "black")
        if not mark.installed:
            fill, font, style = "white", "gray40", style + ",dashed"
        values = {"shape": shape, "style": style, "fillcolor": fill, "fontcolor": font}
        if mark.level is not None:
            classes.append(f"risk-{mark.level.value}")
        if mark.role is not None:
            classes.append(f"role-{mark.role.value}")
    values["label"] = label
    values["class"] = " ".join(classes)
    values["id"] = f"node-{mark.package}"
    if mark.note:
        values["tooltip"] = mark.note
    return f"  {_quote(mark.package)} {_attributes(**values)};"


def _edge_line(edge: Edge) -> str:
    values = {"dir": "back"}
    if edge.kind == "Provides":
        values.update(label=f"provides {edge.relation or edge.dependent}", style="dashed")
    elif edge.alternative:
        values.update(label=f"| {edge.relation or edge.target}", style="dotted")
    elif edge.kind != "Depends":
        values["label"] = edge.kind
    if edge.satisfied is False:
        values.update(color="red", fontcolor="red", label=values.get("label", "") + " (unmet)")
    # drawn from what is needed to who needs it, so the library is on the left
    return f"  {_quote(edge.target)} -> {_quote(edge.dependent)} {_attributes(**values)};"


def caption(picture: Picture) -> str:
    """What the picture shows and what it leaves out, in one line."""
    text = f"{picture.drawn} of {picture.dependents} dependents drawn"
    if picture.folded:
        text += f", {picture.folded} folded into '+N more' (--expand draws them all)"
    return text


def to_dot(picture: Picture, *, legend: bool = True) -> str:
    """The picture as a Graphviz ``digraph`` (deterministic: same input, same text); ``legend``
    adds a title with the caption and what fills and shapes mean (left out inside HTML)."""
    lines = [
        "digraph depgraph {",
        "  rankdir=LR; ranksep=0.5; nodesep=0.15; newrank=true;",
        '  graph [fontname="DejaVu Sans" fontsize=11 labelloc=t labeljust=l];',
        '  node [fontname="DejaVu Sans" fontsize=10 margin="0.08,0.03" height=0.3];',
        '  edge [fontname="DejaVu Sans" fontsize=8 color="#555555" arrowsize=0.6];',
    ]
    title = picture.title + f"\n{caption(picture)}" if legend else ""
    if legend:
        title += "\n"
        if any(mark.level is not None for mark in picture.marks):
            title += "fill: red critical, orange high, yellow medium, light green low, grey none; "
        title += "shape: box server, ellipse client, hexagon no TLS, dashed box unknown role"
        if any(not mark.installed for mark in picture.marks):
            title += "; grey text: not installed"
    if title:
        lines.append(f"  label={_quote(title)};")
    lines.extend(_node_line(mark) for mark in picture.marks)
    for name in picture.virtual:
        attrs = _attributes(
            shape="ellipse", style="dashed", label=f"{name}\n(virtual)", id=f"node-{name}"
        )
        lines.append(f"  {_quote(name)} {attrs};")
    for fold in picture.folds:
        names = ", ".join(fold.names) + (" ..." if fold.count > len(fold.names) else "")
        key = f"more:{fold.under}"
        attrs = _attributes(
            shape="note",
            style="dashed",
            label=f"+{fold.count} more",
            tooltip=names,
            id=f"fold-{fold.under}",
            fontcolor="gray30",
        )
        lines.append(f"  {_quote(key)} {attrs};")
        lines.append(
            f"  {_quote(fold.under)} -> {_quote(key)} {_attributes(dir='back', style='dashed')};"
        )
    lines.extend(_edge_line(edge) for edge in picture.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
