"""Pieces of the audit report as text, shared by the table (terminal) and Markdown formats.

Each line is escaped for a terminal (:mod:`depgraph.formats.escape`): package fields, profile
titles, process names and paths come from the audited files, and a newline or an ``ESC`` in them
must not forge a line of the report or reach the terminal.
"""

from __future__ import annotations

import os

from depgraph.audit import AuditReport, Dependent
from depgraph.fixcheck import FixState
from depgraph.formats.escape import terminal
from depgraph.remediation import Step
from depgraph.risk import FIXED_COPY, Level
from depgraph.runtime.scan import unreadable_sentence

EVIDENCE_SHOWN = 3


def shown(path: str) -> str:
    """A path as the user can use it from here: relative when it is under the current directory."""
    here = os.getcwd().rstrip("/") + "/"
    return path[len(here) :] if path.startswith(here) else path


def title(report: AuditReport) -> str:
    profile = report.profile
    line = terminal(f"{profile.title} ({', '.join(profile.cves)}) in {report.source}")
    if profile.known_from:
        line += terminal(
            f" (asked ad hoc; {profile.known_from} knows this CVE: its affected ranges, impact, "
            "dates and each release's fixed version are used where the command line gives none)"
        )
    return line


def library_lines(report: AuditReport) -> list[str]:
    """One line per library package with its state, then its strongest evidence, indented."""
    lines = []
    for verdict in report.libraries:
        version = f" {verdict.version}" if verdict.version else ""
        arch = f" [{verdict.architecture}]" if verdict.architecture else ""
        # "none": no evidence decided it, which the reason line says in words
        how = f" by {verdict.decided_by}" if verdict.decided_by not in (None, "", "none") else ""
        lines.append(f"{verdict.package}{version}{arch}: {verdict.state.value.upper()}{how}")
        if verdict.reason:
            lines.append(f"  {verdict.reason}")
        for evidence in list(dict.fromkeys(verdict.evidence))[:EVIDENCE_SHOWN]:
            # the status file's line is known to the pure reader only; the title names the file
            where = ""
            if evidence.path and evidence.line and evidence.kind != "dpkg-status":
                where = f" ({shown(evidence.path)}:{evidence.line})"
            lines.append(f"  - {evidence.kind}: {evidence.detail}{where}")
        for conflict in verdict.conflicts:
            lines.append(f"  ! {conflict}")
        window = report.window(verdict.package)
        if window is not None:
            where = ", ".join(f"{shown(e.path)}:{e.line}" for e in window.evidence if e.path)
            lines.append(f"  {window.describe()} ({where})")
    if not report.installed:
        names = ", ".join(report.profile.libraries)
        lines.append(
            f"None of {names} is installed: nothing here is exposed through it.{_family_hint(report)}"
        )
    return [terminal(line) for line in lines]


def _family_hint(report: AuditReport) -> str:
    """What to audit instead: the system's own library of the same family, by the built-in
    profile that names it, else by --library with the CVE left to the user; nothing without one."""
    from depgraph.profiles import builtin_profiles

    hints = []
    for library in report.family:
        profiles = [p.id for p in builtin_profiles() if library in p.libraries]
        if profiles:
            hints.append(f"depgraph audit --profile {profiles[0]}")
        else:
            hints.append(f"depgraph audit --library {library} --cve CVE-ID (the CVE to check)")
    if not hints:
        return ""
    return f" This system has {', '.join(report.family)} instead; audit it with: {'; '.join(hints)}"


def running(dependent: Dependent, report: AuditReport) -> str:
    """``:443 all``, ``yes``, ``no``, ``?`` (partial view) or ``-`` (not looked at)."""
    if not report.runtime:
        return "-"
    if not dependent.processes:
        # a saved maps file shows the processes it was grepped for, not all of them
        whole = all(scan.live and not scan.partial for scan in report.runtime)
        return "no" if whole else "?"
    ports = sorted(
        {
            f":{listener.port}"
            for process in dependent.processes
            for listener in process.listening or ()
            if listener.scope.value != "loopback"
        }
    )
    stale = " old" if any(process.deleted for process in dependent.processes) else ""
    return (" ".join(ports[:2]) if ports else "yes") + stale


def process_lines(report: AuditReport) -> list[str]:
    """The processes that keep an old or vulnerable copy of the library in memory (the processes
    that could not be read are not among them: see ``unreadable_line``)."""
    lines = []
    for scan in report.runtime:
        for process in scan.to_restart:
            who = process.package or "package unknown"
            name = process.exe or process.command or "?"
            where = process.unit or process.container or "no unit"
            listening = ", ".join(str(x) for x in process.listening or ()) or "-"
            copy = report.old_copy(process)
            lines.append(
                f"pid {process.pid} {name} ({who}, {where}): {process.library_path} "
                f"{process.reason.value}{f'; {copy.describe()}' if copy else ''}; "
                f"listening {listening}"
            )
    return [terminal(line) for line in lines]


def process_heading(report: AuditReport) -> str:
    """The heading over ``process_lines``: 'old or vulnerable' unless every copy listed is known
    fixed (dpkg's log at the process's start), which only a restart to load the newest needs."""
    processes = [p for scan in report.runtime for p in scan.to_restart]
    copies = [report.old_copy(p) for p in processes]
    if processes and all(c is not None and c.state in FIXED_COPY for c in copies):
        return (
            "Still running an older copy of the library, already fixed (restart to load the newest)"
        )
    return "Still running the old or vulnerable library"


def unreadable_line(report: AuditReport) -> str:
    """``1 process could not be read: pid 1 (...): the view is partial``, or empty: shown on its
    own, not under a heading that says they still run the old library (nothing says they do)."""
    unreadable = unreadable_sentence(report.runtime)
    return terminal(f"{unreadable}: the view is partial") if unreadable else ""


def package_cell(dependent: Dependent) -> str:
    node = dependent.node
    if node.direct:
        return terminal(node.package)
    hops = node.path[1:-1]
    more = f" +{len(hops) - 1}" if len(hops) > 1 else ""
    return f"{terminal(node.package)}\n> {terminal(hops[0])}{more}"


def plan_lines(steps: tuple[Step, ...]) -> list[str]:
    lines = []
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. [{step.step}] {step.text}")
        lines.extend(f"     $ {command}" for command in step.commands)
    return [terminal(line) for line in lines]


def summary_line(report: AuditReport) -> str:
    counts: dict[str, int] = {}
    for dependent in report.dependents:
        counts[dependent.risk.shown] = counts.get(dependent.risk.shown, 0) + 1
    count = len(report.dependents)
    noun = "dependent" if count == 1 else "dependents"
    shown = f"{count} {noun} ({', '.join(f'{n} {level}' for level, n in counts.items())})"
    states = ", ".join(sorted({v.state.value for v in report.libraries})) or "no library"
    partial = any(scan.partial for scan in report.runtime)
    tail = " (partial view of processes)" if partial else ""
    affected = "AFFECTED" if report.affected else _unaffected(report, partial)
    if any(v.state is FixState.UNKNOWN for v in report.libraries):
        affected = "UNKNOWN (could not tell)"
    if report.dependents_unknown:
        shown = f"dependents not known ({report.dependents_unknown})"
    elif not count:
        shown = "no dependents"
    return terminal(
        f"{report.profile.id}: {affected}; highest risk {highest_words(report)}; "
        f"library {states}; {shown}{_stray(report)}{tail}"
    )


def highest_words(report: AuditReport) -> str:
    """``high``; ``unknown (up to high)`` when the highest level is an upper bound only (an unknown
    fix state, dependents that could not be known), beside the highest known one."""
    bound = report.highest
    known = report.highest_known
    if known is bound:
        return bound.value
    if known is Level.NONE:
        return f"unknown (up to {bound.value})"
    return f"{known.value} (unknown: up to {bound.value})"


def unknown_legend(report: AuditReport) -> str:
    """The line under the table that says what ``high?`` means, when a level is one."""
    if all(d.risk.known for d in report.dependents):
        return ""
    return (
        "?: the library's fix state is unknown; the level is what it would be if it were "
        "vulnerable (what would decide it is said above)"
    )


def _stray(report: AuditReport) -> str:
    """The processes of no dependent that map an old copy, with the level they add to the highest
    risk (``AuditReport.highest``): without them, 'highest risk high' beside '11 low' is a riddle."""
    if not report.stray:
        return ""
    level = "high" if any(report.runs_vulnerable_old_code(p) for p in report.stray) else "low"
    count = len(report.stray)
    noun = (
        "process outside the dependents maps"
        if count == 1
        else "processes outside the dependents map"
    )
    return f"; {count} {noun} an old copy ({level})"


def _unaffected(report: AuditReport, partial: bool) -> str:
    """The summary's word when nothing is affected: ``fixed`` for a library that had the bug and
    has the fix now (its vulnerable window may be printed above), and how much of the running
    code was seen; ``not affected`` only when no installed version ever had the bug."""
    fixed = (FixState.FIXED, FixState.FIXED_BACKPORT)
    if not any(v.state in fixed for v in report.installed):
        return "not affected"
    if not report.runtime:
        # the plan says processes started before the upgrade may still run the old code
        return "fixed on disk (running processes not looked at)"
    if partial:
        return "fixed on disk (some processes could not be read)"
    return "fixed"
