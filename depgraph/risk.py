"""How much risk one dependent carries: the audit's ranking rules, as one pure function.

The rules (README, "Risk levels"; issue "depgraph audit"), first match wins:

=========  =======================================================================================
level      when
=========  =======================================================================================
critical   the library is vulnerable (or a process still maps an old copy that is vulnerable, or
           whose version could not be told) and the package is a TLS server that is running and
           listening on an address other hosts reach
high       vulnerable and a TLS server installed but not running, or only on loopback; or any
           process still running old code that is vulnerable or of unknown version after the
           upgrade; or a running server whose library fix state is unknown
medium     vulnerable and a TLS client; or a non-SSL user when the bug is not in libssl alone
low        vulnerable and a non-SSL user of a libssl-only bug; or the role is unknown; or the fix
           is in but the view of running processes was partial or absent (saved package lists),
           or a process of an unknown package maps an old copy; or a process maps an older copy
           that was already fixed (dpkg's log says which version), or an old copy of the part of
           the library the bug is not in: restart it to load the newest library
none       the fix is in (or the version predates the bug) and nothing still runs the old code
=========  =======================================================================================

A fix state that is unknown ranks as vulnerable, never as ``none``, and the risk is marked not
known (``Risk.known``, issue 24): its level is what it would be if the library were vulnerable, an
upper bound that reports show as ``high?``, and on its own it brings no key rotation.
An old copy whose version could not be told ranks as a vulnerable one, and the reason says why.
The score orders packages within a level (listening, running, direct dependency, confidence).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from depgraph.model import Component, Evidence, Role


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
    NOT_AFFECTED = "not affected"
    """The version predates the vulnerable code: no fix was needed."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class OldCopy:
    """The old (deleted or replaced) copy of the library a process maps, judged.

    Its ``version`` is the one dpkg's log shows on disk when the process started (dpkg(1): the
    ``install``/``upgrade`` lines of ``/var/log/dpkg.log*``), and ``state`` the fix check's verdict
    on that version. ``state`` is UNKNOWN when the version could not be told (``why``: no log, the
    process older than the log, no start time) or could not be judged; ``evidence`` holds the log
    lines.
    """

    pid: int
    package: str
    state: LibraryState
    version: str | None
    why: str
    evidence: tuple[Evidence, ...] = ()

    def describe(self) -> str:
        """``maps an older copy (3.0.7-1, fixed)`` and the like, for the reasons."""
        if self.version is None:
            return f"maps an older copy whose version could not be told: {self.why}"
        if self.state is LibraryState.UNKNOWN:
            return f"maps an older copy ({self.version}, fix state unknown: {self.why})"
        return f"maps an older copy ({self.version}, {self.state.value})"


_OLD_COPY_ORDER = {
    LibraryState.VULNERABLE: 0,
    LibraryState.UNKNOWN: 1,
    LibraryState.FIXED: 2,
    LibraryState.NOT_AFFECTED: 3,
}


def worst_old_copy(copies: list[OldCopy] | tuple[OldCopy, ...]) -> OldCopy | None:
    """The old copy that ranks highest: vulnerable, then unknown, then fixed."""
    return min(copies, key=lambda copy: (_OLD_COPY_ORDER[copy.state], copy.pid), default=None)


@dataclass(frozen=True, slots=True)
class Running:
    """What the runtime scan saw of the package's processes."""

    maps_library: bool = False
    stale: bool = False
    """A process maps a deleted or replaced copy of the part of the library the bug is in."""
    old_copy: OldCopy | None = None
    """The worst of those copies, judged by its version (None: not judged, counted vulnerable)."""
    old_other: str = ""
    """The old copies a process maps when the bug is in none of them (``libcrypto.so.3``, for a
    libssl bug), by file name."""
    listening_public: bool = False
    """It listens on an address other hosts can reach (all addresses or a non-loopback one)."""
    listening_loopback: bool = False
    partial: bool = False
    """Some processes could not be read: "not running" is not known."""
    sockets_unknown: bool = False
    """A process of the package maps the library, but its sockets could not be read."""
    unreadable: str = ""
    """Which processes could not be read, in words (``pid 1 (init): permission denied``)."""
    unattributed: str = ""
    """Processes of an unknown package that map an old copy (``pid 2214``): may be this one's."""
    unseen: bool = False
    """Saved package lists of a running system: its processes were not seen at all."""
    never_vulnerable: bool = False
    """dpkg's log shows every version of the library since its first install, none vulnerable:
    no process can run vulnerable code, seen or not."""


@dataclass(frozen=True, slots=True)
class Risk:
    """report-v1 ``risk``: the level, a score that orders within it, and the reasons in words."""

    level: Level
    score: float
    reasons: tuple[str, ...]
    known: bool = True
    """False when the level is an upper bound: the library's fix state could not be told."""

    @property
    def shown(self) -> str:
        """``high``, or ``high?`` for a level that is only an upper bound."""
        return self.level.value if self.known else f"{self.level.value}?"


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
    risk = _assess(library, role, component, vulnerable_component, running, direct, confidence)
    if library is LibraryState.UNKNOWN and not running.stale and risk.level is not Level.NONE:
        # an old copy that runs is judged on its own version, not on the installed one's
        return Risk(risk.level, risk.score, risk.reasons, known=False)
    return risk


def _assess(
    library: LibraryState,
    role: Role,
    component: Component,
    vulnerable_component: Component | None,
    running: Running,
    direct: bool,
    confidence: float,
) -> Risk:
    reasons: list[str] = []
    unknown_fix = library is LibraryState.UNKNOWN
    if unknown_fix:
        reasons.append("the library's fix state is unknown: counted as vulnerable")
    vulnerable = library in (LibraryState.VULNERABLE, LibraryState.UNKNOWN)
    server_up = role is Role.SERVER and running.maps_library and running.listening_public
    old = running.old_copy
    if running.stale and old is not None and old.state in FIXED_COPY:
        # it runs fixed code; it still needs a restart to load the newest library
        reasons.append(f"{old.describe()}: restart it to load the newest library")
        if not vulnerable:
            return _risk(Level.LOW, reasons, running, direct, confidence)
        # what runs is fixed, what a restart loads is not: never critical, but upgrade first
        reasons.append("the installed version is not fixed: upgrade before restarting")
        return _risk(Level.HIGH, reasons, running, direct, confidence)
    elif running.stale:
        if old is None:
            reasons.append("still runs the old, vulnerable library")
        elif old.state is LibraryState.VULNERABLE:
            reasons.append(f"still runs the old, vulnerable library: {old.describe()}")
        else:
            reasons.append(f"{old.describe()}: counted as vulnerable")
        if server_up:
            reasons.append("a TLS server, reachable")
            return _risk(Level.CRITICAL, reasons, running, direct, confidence)
        return _risk(Level.HIGH, reasons, running, direct, confidence)
    if not vulnerable:
        return _not_vulnerable(library, reasons, running, direct, confidence)
    if role is Role.SERVER:
        if server_up:
            reasons.append("TLS server listening, reachable")
            level = Level.HIGH if unknown_fix else Level.CRITICAL
            return _risk(level, reasons, running, direct, confidence)
        reasons.append(_idle_server(running))
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


def _idle_server(running: Running) -> str:
    """A vulnerable TLS server that is not (known to be) reachable: what is known of it."""
    if running.maps_library:
        if running.listening_loopback:
            return "TLS server, loopback only"
        if running.sockets_unknown:
            return "TLS server running; its sockets could not be read"
        return "TLS server running, not listening"
    if running.unseen:
        # saved lists, a tree that is not this system: "not running" would be a guess
        return "TLS server; whether it runs was not looked at"
    if running.partial:
        unreadable = running.unreadable or "some processes"
        return f"TLS server; not seen running, but {unreadable} could not be read"
    return "TLS server, not running"


FIXED_COPY = (LibraryState.FIXED, LibraryState.NOT_AFFECTED)


def _not_vulnerable(
    library: LibraryState, reasons: list[str], running: Running, direct: bool, confidence: float
) -> Risk:
    """The fix is in (or was never needed) and no process of the package maps an old copy of the
    vulnerable part: none, unless old code may run where it could not be seen."""
    fix = "not affected" if library is LibraryState.NOT_AFFECTED else "fix in"
    if running.old_other:
        reasons.append(
            f"{fix}; maps an old {running.old_other}, which this bug is not in: restart it to "
            "load the newest"
        )
        return _risk(Level.LOW, reasons, running, direct, confidence)
    if library is LibraryState.NOT_AFFECTED:
        reasons.append("not affected: the installed version predates the bug")
        return _risk(Level.NONE, reasons, running, direct, confidence)
    if running.never_vulnerable:
        reasons.append("fix in; dpkg's log shows no vulnerable version ever installed here")
        return _risk(Level.NONE, reasons, running, direct, confidence)
    if running.unseen:
        reasons.append("fix in; whether old code runs is not known")
        return _risk(Level.LOW, reasons, running, direct, confidence)
    if running.unattributed:
        reasons.append(f"fix in; {running.unattributed} maps an old copy, its package unknown")
        return _risk(Level.LOW, reasons, running, direct, confidence)
    if running.partial:
        unreadable = running.unreadable or "some processes"
        reasons.append(f"fix in; {unreadable} could not be read: may run old code")
        return _risk(Level.LOW, reasons, running, direct, confidence)
    reasons.append("fix in; nothing runs the old code")
    return _risk(Level.NONE, reasons, running, direct, confidence)


def _risk(
    level: Level, reasons: list[str], running: Running, direct: bool, confidence: float
) -> Risk:
    if level is Level.NONE:
        return Risk(level, 0.0, tuple(reasons))
    bonus = 4.0 * running.listening_public + 2.0 * running.maps_library + 1.0 * direct
    bonus += 2.0 * max(0.0, min(confidence, 1.0))
    return Risk(level, round(level.base + bonus, 1), tuple(reasons))
