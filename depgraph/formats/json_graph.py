"""JSON following ``depgraph/graph/v1`` (``../shared/contract/graph-v1.schema.json``).

Fields beyond the schema's required ones are additions (``path``, ``direct``, ``state``, ``relation``,
``satisfied``, ``warnings``, ...); none is ever renamed or removed without a new schema version.
"""

from __future__ import annotations

import json
from typing import Any

from depgraph.formats.escape import json_text
from depgraph.model import DependencyGraph

SCHEMA = "depgraph/graph/v1"


def graph_document(graph: DependencyGraph) -> dict[str, Any]:
    """The graph as a JSON-ready dict."""
    return {
        "schema": SCHEMA,
        "targets": list(graph.targets),
        "installed_only": graph.installed_only,
        "relation_kinds": [kind.value for kind in graph.kinds],
        "nodes": [
            {
                "package": node.package,
                "version": node.version,
                "installed": node.installed,
                "depth": node.depth,
                "via": list(node.via),
                "path": list(node.path),
                "direct": node.direct,
                "state": node.state,
                "section": node.section,
                **_role(graph, node.package),
            }
            for node in graph.nodes
        ],
        "edges": [
            {
                "from": edge.dependent,
                "to": edge.target,
                "kind": edge.kind,
                "alternative": edge.alternative,
                "relation": edge.relation,
                "satisfied": edge.satisfied,
            }
            for edge in graph.edges
        ],
        "warnings": [{"where": w.where, "message": w.message} for w in graph.warnings],
    }


def _role(graph: DependencyGraph, package: str) -> dict[str, Any]:
    """``role`` and ``role_evidence`` as in ``report-v1``; absent for targets and unclassified runs."""
    verdict = graph.roles.get(package)
    if verdict is None:
        return {}
    return {
        "role": verdict.role.value,
        "component": verdict.component.value,
        "confidence": verdict.confidence,
        "role_missing": verdict.missing,
        "role_evidence": [
            {"kind": e.kind, "detail": e.detail, "path": e.path, "line": e.line}
            for e in verdict.evidence
        ],
    }


def render_graph(graph: DependencyGraph) -> str:
    """Indented, key-stable JSON text."""
    return json_text(json.dumps(graph_document(graph), indent=2, ensure_ascii=False) + "\n")
