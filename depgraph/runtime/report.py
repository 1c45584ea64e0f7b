"""The scan as report-v1 ``processes`` entries (``depgraph/schemas/report-v1.schema.json``), the
``depgraph restart`` JSON (``restart-v1.schema.json``) and its plain-text table.

report-v1's required fields (``pid``, ``exe``, ``package``, ``unit``, ``library_path``,
``deleted``, ``listening``) keep their meaning; the rest are additions the schema allows. The table
is laid out here rather than with tabulate, whose import alone costs more than a whole scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depgraph.dpkg_log import VulnerableWindow
    from depgraph.model import Evidence
    from depgraph.risk import OldCopy
    from depgraph.runtime.plan import Action
    from depgraph.runtime.scan import ProcessExposure, RuntimeScan

RESTART_SCHEMA = "depgraph/restart/v1"


def _when(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def _evidence(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {
            k: v
            for k, v in (("kind", e.kind), ("detail", e.detail), ("path", e.path), ("line", e.line))
            if v is not None
        }
        for e in evidence
    ]


def window_entry(window: VulnerableWindow) -> dict[str, Any]:
    """report-v1 ``library[].vulnerable_window`` (an addition): when dpkg's log shows a vulnerable
    version on disk (``from`` null: before the oldest log; ``to`` null: still installed)."""
    return {
        "from": _when(window.start),
        "to": _when(window.end),
        "versions": list(window.versions),
        "replaced_by": window.replaced_by,
        "text": window.describe(),
        "evidence": _evidence(window.evidence),
    }


def old_copy_entry(copy: OldCopy) -> dict[str, Any]:
    """report-v1 ``processes[].old_copy`` (an addition): the version of the deleted or replaced
    copy, from dpkg's log, and the fix check's verdict on it."""
    return {
        "version": copy.version,
        "state": copy.state.value,
        "text": copy.describe(),
        "why": copy.why or None,
        "evidence": _evidence(copy.evidence),
    }


def process_entry(process: ProcessExposure, old_copy: OldCopy | None = None) -> dict[str, Any]:
    """One report-v1 ``processes`` entry (``old_copy``: the judged old copy it maps, if any)."""
    entry = _process_entry(process)
    if old_copy is not None:
        entry["old_copy"] = old_copy_entry(old_copy)
    return entry


def _process_entry(process: ProcessExposure) -> dict[str, Any]:
    return {
        "pid": process.pid,
        "exe": process.exe,
        "package": process.package,
        "unit": process.unit,
        "library_path": process.library_path,
        "deleted": process.deleted,
        "listening": [str(listener) for listener in process.listening or ()],
        "command": process.command or None,
        "container": process.container,
        "uid": process.uid,
        "started": _when(process.started),
        "reason": process.reason.value,
        "needs_restart": process.needs_restart,
        "mappings": [
            {"path": m.path, "state": s.value, "device": m.device, "inode": m.inode}
            for m, s in zip(process.mappings, process.states, strict=True)
        ],
        "listening_known": process.listening is not None,
        "listening_scope": process.scope.value if process.scope else None,
        "exe_deleted": process.exe_deleted,
        "evidence": _evidence(process.evidence),
    }


def action_entry(action: Action) -> dict[str, Any]:
    """One step of the plan (report-v1 ``actions`` shape: ``step`` and ``text``, plus more)."""
    text = action.command or {
        "log-out": f"log out of {action.target} and back in",
        "restart-by-hand": f"restart {action.target} by hand",
        "reboot": f"reboot ({action.target} cannot be restarted)",
    }.get(action.kind.value, action.target)
    return {
        "step": action.kind.value,
        "text": text,
        "target": action.target,
        "command": action.command,
        "pids": list(action.pids),
        "why": action.why,
    }


def restart_json(
    scan: RuntimeScan | None,
    actions: tuple[Action, ...],
    warnings: list[str],
    extra: dict[str, Any],
) -> Iterator[str]:
    """The whole ``depgraph restart --format json`` document, in pieces: the text of
    ``json.dumps(document, indent=2)``, each process and action encoded when it is written (a
    million mappings would otherwise be a gigabyte of text held at once)."""
    library = extra.pop("library")
    fields: list[tuple[str, Any]] = [
        ("schema", RESTART_SCHEMA),
        ("source", extra.pop("source")),
        ("library", library),
        ("partial", bool(scan and scan.partial)),
        ("scanned", scan.scanned if scan else 0),
        (
            "unreadable",
            [{"pid": pid, "command": name} for pid, name in scan.unreadable] if scan else [],
        ),
        ("processes", (process_entry(p) for p in scan.processes) if scan else iter(())),
        ("actions", (action_entry(a) for a in actions)),
        *extra.items(),
        ("warnings", warnings),
    ]
    return _json_pieces(fields)


def _json_pieces(fields: list[tuple[str, Any]]) -> Iterator[str]:
    """A JSON object as ``json.dumps(..., indent=2)`` writes it, with each value that is an
    iterator written as a list, one item at a time."""
    import json

    yield "{"
    for n, (key, value) in enumerate(fields):
        yield ("," if n else "") + "\n  " + json.dumps(key) + ": "
        if isinstance(value, Iterator):
            empty = True
            for item in value:
                text = json.dumps(item, indent=2).replace("\n", "\n    ")
                yield ("[" if empty else ",") + "\n    " + text
                empty = False
            yield "[]" if empty else "\n  ]"
        else:
            yield json.dumps(value, indent=2).replace("\n", "\n  ")
    yield "\n}\n"


def columns(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> str:
    """A plain table: columns padded to their widest cell, two spaces apart; each cell escaped
    for a terminal (process names and paths come from the audited system: formats/escape.py)."""
    from depgraph.formats.escape import terminal

    rows = [tuple(terminal(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def process_rows(processes: tuple[ProcessExposure, ...]) -> list[tuple[str, ...]]:
    """Table rows: pid, name, package, unit or container, start, library, why, listening."""
    rows: list[tuple[str, ...]] = []
    for p in processes:
        listening = (
            "?"
            if p.listening is None
            else ", ".join(f"{s} ({s.scope.value})" for s in p.listening) or "-"
        )
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(p.started)) if p.started else "-"
        rows.append(
            (
                str(p.pid) if p.pid else "?",
                p.command or (p.exe or "-").rsplit("/", 1)[-1],
                p.package or "-",
                p.unit or p.container or "-",
                started,
                p.library_path,
                p.reason.value,
                listening,
            )
        )
    return rows


PROCESS_HEADERS = ("pid", "process", "package", "unit", "started", "library", "why", "listening")
