"""Profiles as text and JSON, for ``depgraph profiles`` (JSON schema ``depgraph/profiles/v1``).

A profile is a TOML file anyone may write: its text is escaped for a terminal, line by line
(:func:`depgraph.formats.escape.terminal`), so a title with a newline or an ``ESC`` forges nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence

from depgraph.formats.escape import terminal
from depgraph.profiles.loader import Profile

SCHEMA = "depgraph/profiles/v1"


def profile_json(profile: Profile) -> dict[str, object]:
    """Everything a profile says, as JSON values."""
    return {
        "id": profile.id,
        "title": profile.title,
        "cves": list(profile.cves),
        "libraries": list(profile.libraries),
        "component": profile.component,
        "source_package": profile.source_package,
        "impact": profile.impact.value,
        "sonames": list(profile.sonames),
        "disclosed": profile.disclosed.isoformat() if profile.disclosed else None,
        "affected": [
            {"introduced": r.introduced, "fixed": r.fixed, "last_affected": r.last_affected}
            for r in profile.affected
        ],
        "fixed": [
            {
                "distribution": f.distribution,
                "release": f.release,
                "version": f.version,
                "source": f.source,
            }
            for f in profile.fixed
        ],
        "exposures": [
            {"package": e.package, "via": list(e.via), "why": e.why} for e in profile.exposures
        ],
        "remediation": [{"step": r.step, "text": r.text} for r in profile.remediation],
        "references": list(profile.references),
        "origin": profile.origin,
    }


def render_list(profiles: Sequence[Profile], output: str) -> str:
    """One line per profile (text) or the profiles in full (JSON)."""
    if output == "json":
        document = {"schema": SCHEMA, "profiles": [profile_json(p) for p in profiles]}
        return json.dumps(document, indent=2) + "\n"
    rows: list[tuple[str, ...]] = [("PROFILE", "CVES", "LIBRARIES", "TITLE")]
    rows += [
        tuple(terminal(cell) for cell in (p.id, " ".join(p.cves), " ".join(p.libraries), p.title))
        for p in profiles
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "".join(
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}\n"
        for row in rows
    )


def render_details(profile: Profile, output: str) -> str:
    """One profile in full."""
    if output == "json":
        return json.dumps({"schema": SCHEMA, "profile": profile_json(profile)}, indent=2) + "\n"
    out = [
        f"{profile.id}: {profile.title}",
        f"  CVEs:       {', '.join(profile.cves)}",
        f"  libraries:  {', '.join(profile.libraries)} (any architecture)",
        f"  component:  {profile.component}",
        f"  impact:     {profile.impact.value}",
    ]
    if profile.sonames:
        out.append(f"  sonames:    {', '.join(profile.sonames)}")
    if profile.disclosed:
        out.append(f"  disclosed:  {profile.disclosed.isoformat()}")
    for affected in profile.affected:
        out.append(f"  vulnerable: upstream {affected}")
    for fixed in profile.fixed:
        source = f"  [{fixed.source}]" if fixed.source else ""
        out.append(f"  fixed in:   {fixed.distribution} {fixed.release}: {fixed.version}{source}")
    for exposure in profile.exposures:
        path = " -> ".join((exposure.package, *exposure.via, *profile.libraries[:1]))
        out.append(f"  exposure:   {path}: {exposure.why}")
    for number, step in enumerate(profile.remediation, start=1):
        out.append(f"  {number}. {step.step}: {step.text}")
    for reference in profile.references:
        out.append(f"  see {reference}")
    return "".join(terminal(line) + "\n" for line in out)
