"""How much risk one dependent carries: the audit's ranking rules, as one pure function.

The rules (README, "Risk levels"; issue "depgraph audit"), first match wins:

=========  =======================================================================================
level      when
=========  =======================================================================================
critical   the library is vulnerable (or a process still maps an old, vulnerable copy) and the
           package is a TLS server that is running and listening on an address other hosts reach
high       vulnerable and a TLS server installed but not running, or only on loopback; or any
           process still running the old vulnerable code after the upgrade; or a running server
           whose library fix state is unknown
medium     vulnerable and a TLS client; or a non-SSL user when the bug is not in libssl alone
low        vulnerable and a non-SSL user of a libssl-only bug; or the role is unknown; or the fix
           is in but the view of running processes was partial or absent (saved package lists)
none       the fix is in and nothing still runs the old code
=========  =======================================================================================

A fix state that is unknown ranks as vulnerable, never as ``none``: the reasons say it is unknown.
The score orders packages within a level (listening, running, direct dependency, confidence).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from depgraph.model import Component, Role


class Level(enum.Enum):
    """report-v1 ``risk.level``, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"

    @property
    def base(self) -> int:
        return _BASE[self]

    def at_least(self, other: Level) -> bool:
        """This level is as severe as ``other`` or more (``--fail-on``)."""
        return _BASE[self] >= _BASE[other]


_BASE = {Level.CRITICAL: 90, Level.HIGH: 70, Level.MEDIUM: 40, Level.LOW: 15, Level.NONE: 0}


class LibraryState(enum.Enum):
    """What the fix check concluded for the library the package uses, reduced to what ranks."""

    VULNERABLE = "vulnerable"
    FIXED = "fixed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Running:
    """What the runtime scan saw of the package's processes."""

    maps_library: bool = False
    stale: bool = False
    """A process maps a deleted or replaced copy of the library (the old code)."""
    listening_public: bool = False
    """It listens on an address other hosts can reach (all addresses or a non-loopback one)."""
    listening_loopback: bool = False
    partial: bool = False
    """Some processes could not be read: "not running" is not known."""
    unseen: bool = False
    """Saved package lists of a running system: its processes were not seen at all."""


@dataclass(frozen=True, slots=True)
class Risk:
    """report-v1 ``risk``: the level, a score that orders within it, and the reasons in words."""

    level: Level
    score: float
    reasons: tuple[str, ...]


def assess(
    *,
    library: LibraryState,
    role: Role,
    component: Component,
    vulnerable_component: Component | None,
    running: Running,
    direct: bool = True,
    confidence: float = 1.0,
) -> Risk:
    """The risk of one dependent under the rules of the module docstring.

    ``component``: what the dependent uses of the library; ``vulnerable_component``: where the bug
    is (``libssl`` for Heartbleed; None when the whole library is affected, as liblzma).
    """
    reasons: list[str] = []
    unknown_fix = library is LibraryState.UNKNOWN
    if unknown_fix:
        reasons.append("the library's fix state is unknown: counted as vulnerable")
    vulnerable = library is not LibraryState.FIXED
    server_up = role is Role.SERVER and running.maps_library and running.listening_public
    if running.stale:
        reasons.append("still runs the old, vulnerable library")
        if server_up:
            reasons.append("a TLS server, reachable")
            return _risk(Level.CRITICAL, reasons, running, direct, confidence)
        return _risk(Level.HIGH, reasons, running, direct, confidence)
    if not vulnerable:
        if running.unseen:
            reasons.append("fix in; whether old code runs is not known")
            return _risk(Level.LOW, reasons, running, direct, confidence)
        if running.partial:
            reasons.append("fix in; unreadable processes may run old code")
            return _risk(Level.LOW, reasons, running, direct, confidence)
        reasons.append("fix in; nothing runs the old code")
        return _risk(Level.NONE, reasons, running, direct, confidence)
    if role is Role.SERVER:
        if server_up:
            reasons.append("TLS server listening, reachable")
            level = Level.HIGH if unknown_fix else Level.CRITICAL
            return _risk(level, reasons, running, direct, confidence)
        if running.maps_library and running.listening_loopback:
            reasons.append("TLS server, loopback only")
        elif running.partial:
            reasons.append("TLS server; running unknown")
        else:
            reasons.append("TLS server, not running")
        return _risk(Level.HIGH, reasons, running, direct, confidence)
    if role is Role.CLIENT:
        reasons.append("TLS client: exposed to bad servers")
        return _risk(Level.MEDIUM, reasons, running, direct, confidence)
    if role is Role.NON_SSL:
        spared = vulnerable_component is Component.LIBSSL and component in (
            Component.LIBCRYPTO,
            Component.NONE,
            Component.OTHER,
        )
        if spared:
            reasons.append("no TLS; the bug is in libssl")
            return _risk(Level.LOW, reasons, running, direct, confidence)
        if vulnerable_component is Component.LIBSSL and component is Component.LIBSSL:
            reasons.append("links libssl, no TLS calls")
            return _risk(Level.LOW, reasons, running, direct, confidence)
        reasons.append("uses the library; bug not TLS-only")
        return _risk(Level.MEDIUM, reasons, running, direct, confidence)
    reasons.append("role unknown")
    return _risk(Level.LOW, reasons, running, direct, confidence)


def _risk(
    level: Level, reasons: list[str], running: Running, direct: bool, confidence: float
) -> Risk:
    if level is Level.NONE:
        return Risk(level, 0.0, tuple(reasons))
    bonus = 4.0 * running.listening_public + 2.0 * running.maps_library + 1.0 * direct
    bonus += 2.0 * max(0.0, min(confidence, 1.0))
    return Risk(level, round(level.base + bonus, 1), tuple(reasons))
