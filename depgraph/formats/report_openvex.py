"""The audit as an OpenVEX v0.2.0 document (github.com/openvex/spec, OPENVEX-SPEC.md).

One statement per installed library package and one per dependent, for each CVE of the profile.
Products are Package URLs of type ``deb`` (purl-spec, ``PURL-TYPES.rst``):
``pkg:deb/debian/NAME@VERSION?arch=ARCH`` (``ubuntu`` when the versions say Ubuntu); a dependent
lists the library it reaches as its subcomponent. Status, from the audit's evidence:

==========================================  ==================================================
``affected``                                the library is vulnerable and the dependent uses
                                            the vulnerable part (TLS server or client, or any
                                            user of a bug not in libssl alone), or a process of
                                            it still runs the old library
``not_affected`` ``vulnerable_code_not_present``   a libcrypto-only (or other-part) user of a
                                            libssl bug; or a library version never vulnerable
``not_affected`` ``component_not_present``  it does not load the library itself, and the bug
                                            is in libssl alone
``not_affected`` ``vulnerable_code_not_in_execute_path``  it links libssl but calls no TLS
``not_affected`` ``inline_mitigations_already_exist``  the fix is backported into the
                                            installed version (``fixed-backport``)
``fixed``                                   the installed version is at or past the fix
``not_affected`` ``component_not_present``  (a library package) not installed
``under_investigation``                     the role or the library's fix state is unknown
==========================================  ==================================================

A "not affected" that rests on the role needs the role to be known with confidence
(``MIN_CONFIDENCE``); else it is ``under_investigation``, never a guessed "fine". The reasons and
the role's evidence go into ``status_notes`` and ``impact_statement``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from depgraph import __version__
from depgraph.audit import AuditReport, Dependent, vulnerable_component
from depgraph.fixcheck import FixState, LibraryVerdict
from depgraph.formats.escape import json_text
from depgraph.model import Component, Role
from depgraph.remediation import Step
from depgraph.runtime.scan import ProcessExposure, Reason

CONTEXT = "https://openvex.dev/ns/v0.2.0"
MIN_CONFIDENCE = 0.6
"""Below this role confidence a "not affected" becomes ``under_investigation``."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The VEX status of one product, with its justification and words."""

    status: str
    justification: str | None = None
    impact: str | None = None
    note: str = ""


def purl(name: str, version: str | None, architecture: str | None, vendor: str) -> str:
    """``pkg:deb/VENDOR/NAME@VERSION?arch=ARCH``; ``name:arch`` keys give their architecture."""
    name, _, qualified = name.partition(":")
    architecture = architecture or qualified or None
    text = f"pkg:deb/{vendor}/{quote(name, safe='+.-')}"
    if version:
        text += f"@{quote(version, safe='+.-~:')}"
    if architecture:
        text += f"?arch={quote(architecture, safe='')}"
    return text


def vendor_of(report: AuditReport) -> str:
    """``ubuntu`` when the library's version or verdict says Ubuntu, ``raspbian`` for Raspbian's
    rebuild tags (``+rvt``, ``+rpiN``), else ``debian``."""
    for verdict in report.libraries:
        if "ubuntu" in (verdict.version or "") or "Ubuntu" in verdict.reason:
            return "ubuntu"
        if re.search(r"\+(rvt|rpi\d*)", verdict.version or ""):
            return "raspbian"
    return "debian"


def library_verdict(verdict: LibraryVerdict) -> Verdict:
    """The status of the library package itself."""
    words = verdict.reason or f"{verdict.state.value} by {verdict.decided_by or 'no rule'}"
    match verdict.state:
        case FixState.VULNERABLE:
            return Verdict("affected", note=words)
        case FixState.FIXED:
            return Verdict("fixed", note=words)
        case FixState.FIXED_BACKPORT:
            return Verdict("not_affected", "inline_mitigations_already_exist", words, words)
        case FixState.NOT_AFFECTED:
            return Verdict("not_affected", "vulnerable_code_not_present", words, words)
        case FixState.NOT_INSTALLED:
            return Verdict("not_affected", "component_not_present", "not installed", words)
        case _:
            return Verdict("under_investigation", note=words)


def dependent_verdict(
    dependent: Dependent, library: LibraryVerdict | None, report: AuditReport
) -> Verdict:
    """The status of one dependent: what runs, what it uses of the library, the fix state."""
    role = dependent.role
    reasons = "; ".join(dependent.risk.reasons)
    component = vulnerable_component(report.profile)
    if any(report.runs_vulnerable_old_code(p) for p in dependent.processes):
        return Verdict("affected", note=reasons)
    spared = _spared(dependent, component)
    if spared is not None:
        return spared
    state = library.state if library is not None else FixState.UNKNOWN
    if state is not FixState.VULNERABLE:
        fixed = library_verdict(library) if library is not None else None
        if fixed is None or fixed.status == "under_investigation":
            return Verdict(
                "under_investigation", note=f"the library's fix state is unknown; {reasons}"
            )
        return Verdict(fixed.status, fixed.justification, fixed.impact, f"{reasons} ({fixed.note})")
    if role.role in (Role.SERVER, Role.CLIENT):
        return Verdict("affected", note=reasons)
    if role.role is Role.NON_SSL and component is None:
        return Verdict("affected", note=reasons)  # the whole library is vulnerable
    return Verdict("under_investigation", note=reasons)


def _spared(dependent: Dependent, component: Component | None) -> Verdict | None:
    """Not affected whatever the library's version: a non-TLS user of a libssl bug."""
    role = dependent.role
    if role.role is not Role.NON_SSL or component is not Component.LIBSSL:
        return None
    if role.confidence < MIN_CONFIDENCE:
        return None
    evidence = "; ".join(f"{e.kind}: {e.detail}" for e in role.evidence[:2]) or "no evidence"
    if role.component in (Component.LIBCRYPTO, Component.OTHER):
        return Verdict(
            "not_affected",
            "vulnerable_code_not_present",
            f"uses {role.component.value} only, the bug is in libssl ({evidence})",
        )
    if role.component is Component.NONE:
        return Verdict(
            "not_affected",
            "component_not_present",
            f"does not load libssl itself ({evidence})",
        )
    if role.component is Component.LIBSSL:
        return Verdict(
            "not_affected",
            "vulnerable_code_not_in_execute_path",
            f"links libssl but makes no TLS calls ({evidence})",
        )
    return None


def _statement(cve: str, product: dict[str, Any], verdict: Verdict, action: str) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "vulnerability": {"name": cve},
        "products": [product],
        "status": verdict.status,
    }
    if verdict.justification:
        statement["justification"] = verdict.justification
    if verdict.impact:
        statement["impact_statement"] = verdict.impact
    if verdict.status == "affected":
        statement["action_statement"] = action
    if verdict.note:
        statement["status_notes"] = verdict.note
    return statement


def _action(steps: tuple[Step, ...], *names: str) -> str:
    """The plan's steps that name the package or its library, or all of them when none does."""
    wanted = {name.partition(":")[0] for name in names}
    mine = [s for s in steps if wanted & {p.partition(":")[0] for p in s.packages}] or list(steps)
    text = " ".join(f"{s.step}: {s.text}" for s in mine)
    return text or "Upgrade the library package and restart what uses it."


_MAPS = {
    Reason.DELETED: "an old copy",
    Reason.REPLACED: "an old copy",
    Reason.VULNERABLE_VERSION: "the installed, vulnerable library",
    Reason.UNKNOWN: "a copy that could not be compared with the installed file",
}


def _still_mapped(stale: list[ProcessExposure]) -> str:
    """``1 process still maps an old copy`` (deleted or replaced), ``2 processes still map the
    installed, vulnerable library``, each kind counted (runtime.scan's ``Reason``)."""
    counts: dict[str, int] = {}
    for process in stale:
        what = _MAPS.get(process.reason, "the library")
        counts[what] = counts.get(what, 0) + 1
    return " and ".join(
        f"{n} {'process still maps' if n == 1 else 'processes still map'} {what}"
        for what, n in counts.items()
    )


def document(
    report: AuditReport, steps: tuple[Step, ...], now: datetime.datetime | None = None
) -> dict[str, Any]:
    """The OpenVEX document as a JSON-ready dict."""
    vendor = vendor_of(report)
    libraries = {v.package: v for v in report.installed}
    statements = []
    for cve in report.profile.cves:
        stale = [p for scan in report.runtime for p in scan.to_restart]
        for verdict in report.libraries:
            product: dict[str, Any] = {
                "@id": purl(verdict.package, verdict.version, verdict.architecture, vendor)
            }
            found = library_verdict(verdict)
            if stale and verdict.state is not FixState.NOT_INSTALLED:
                note = f"; {_still_mapped(stale)}: restart {'it' if len(stale) == 1 else 'them'}"
                found = Verdict(found.status, found.justification, found.impact, found.note + note)
            statements.append(_statement(cve, product, found, _action(steps, verdict.package)))
        for dependent in report.dependents:
            library = libraries.get(dependent.library)
            node = dependent.node
            product = {
                "@id": purl(node.package, node.version, None, vendor),
                "subcomponents": [
                    {
                        "@id": purl(library.package, library.version, library.architecture, vendor)
                        if library is not None
                        else purl(dependent.library, None, None, vendor)
                    }
                ],
            }
            status = dependent_verdict(dependent, library, report)
            statements.append(
                _statement(cve, product, status, _action(steps, node.package, dependent.library))
            )
    when = now or _now()
    stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
    digest = hashlib.sha256(
        json.dumps([report.source, stamp, statements], sort_keys=True).encode()
    ).hexdigest()
    return {
        "@context": CONTEXT,
        "@id": f"urn:uuid:{uuid.UUID(digest[:32])}",
        "author": os.environ.get("DEPGRAPH_VEX_AUTHOR", "depgraph"),
        "role": "Document Creator",
        "timestamp": stamp,
        "version": 1,
        "tooling": f"depgraph {__version__} audit, profile {report.profile.id}, {report.source}",
        "statements": statements,
    }


def _now() -> datetime.datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` for reproducible documents."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    return datetime.datetime.now(datetime.UTC)


def render_report(report: AuditReport, steps: tuple[Step, ...], *, color: bool = False) -> str:
    """The document as indented JSON."""
    return json_text(json.dumps(document(report, steps), indent=2, ensure_ascii=False) + "\n")
