"""When each version of a package was installed, from dpkg's log (``var/log/dpkg.log*``, dpkg(1)
"FILES" and the log format in dpkg's ``src/main/archives.c``/``help.c``).

dpkg logs ``YYYY-MM-DD HH:MM:SS ACTION PACKAGE:ARCH OLD-VERSION NEW-VERSION`` for ``install``,
``upgrade``, ``remove`` and ``purge`` (``<none>`` when there is no version), and ``status STATE
PACKAGE:ARCH VERSION`` as it goes. The files of a new version replace the old ones while it is
unpacked, right after the ``install``/``upgrade`` line: that moment ends the previous version's
period on disk. Processes started before it keep the old copy mapped until they are restarted, so
a period together with process start times (``depgraph.runtime.scan``) gives the window in which
each service ran a given (vulnerable) version.

Rotated logs (``dpkg.log.1``, ``dpkg.log.2.gz``, ...) are read too, oldest first. Times are the
local time of the machine that wrote them (dpkg writes no zone); they are converted with this
machine's zone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from depgraph.model import Evidence
from depgraph.rootpath import under_root

LOG_DIRECTORY = "var/log"
_LINE = re.compile(
    r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (install|upgrade|remove|purge) (\S+) (\S+) (\S+)\s*$"
)
_ROTATION = re.compile(r"^dpkg\.log(?:\.(\d+))?(\.gz)?$")


@dataclass(frozen=True, slots=True)
class VersionPeriod:
    """One version of the package on disk: from ``installed`` until ``replaced`` (None: still
    there, as far as the logs go; ``installed`` None: before the oldest log). ``removed`` when it ended by removal rather than by another
    version. Times are seconds since the epoch; ``evidence`` the log lines."""

    version: str
    installed: float | None
    replaced: float | None
    removed: bool
    evidence: tuple[Evidence, ...]

    def covers(self, moment: float) -> bool:
        """The version was the one on disk at ``moment``."""
        return (self.installed is None or self.installed <= moment) and (
            self.replaced is None or moment < self.replaced
        )


@dataclass(frozen=True, slots=True)
class ExposureHistory:
    """The versions of one package over time, oldest first, and the logs they come from."""

    package: str
    periods: tuple[VersionPeriod, ...]
    logs: tuple[str, ...]

    def version_at(self, moment: float) -> VersionPeriod | None:
        """The version on disk at a moment (what a process started then has mapped)."""
        for period in self.periods:
            if period.covers(moment):
                return period
        return None

    def current(self) -> VersionPeriod | None:
        """The period still open (the installed version), if the logs show one."""
        if self.periods and self.periods[-1].replaced is None and not self.periods[-1].removed:
            return self.periods[-1]
        return None


def log_files(root: Path) -> list[Path]:
    """dpkg's logs under ``root``, oldest first (``dpkg.log.N[.gz]`` by N descending, then
    ``dpkg.log``)."""
    directory = under_root(root, LOG_DIRECTORY)
    try:
        names = [entry.name for entry in directory.iterdir()]
    except OSError:
        return []
    found = []
    for name in names:
        match = _ROTATION.match(name)
        if match:
            found.append((-(int(match.group(1)) if match.group(1) else 0), name))
    return [directory / name for _, name in sorted(found)]


def _read_log(path: Path) -> str | None:
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_bytes

    try:
        # compression by content (logrotate's .gz, or any); NUL bytes (a log cut by a crash) are
        # kept as they are, not an error
        return read_bytes(path, Kind.LOG).decode("utf-8", errors="replace")
    except DepgraphError:
        return None


def _seconds(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))


def exposure_history(
    root: Path, package: str, warnings: list[str] | None = None
) -> ExposureHistory:
    """Every version of ``package`` (any architecture) dpkg's logs under ``root`` show."""
    name = package.partition(":")[0]
    wanted = (f" {name} ", f" {name}:")
    periods: list[VersionPeriod] = []
    open_period: tuple[str, float, list[Evidence]] | None = None
    read: list[str] = []
    for path in log_files(root):
        text = _read_log(path)
        if text is None:
            if warnings is not None:
                warnings.append(f"{path}: cannot be read; the exposure history may miss versions")
            continue
        read.append(str(path))
        for number, line in enumerate(text.splitlines(), 1):
            if not any(w in line for w in wanted):
                continue
            match = _LINE.match(line)
            if match is None or match.group(3).partition(":")[0] != name:
                continue
            stamp, action, _, old, new = match.groups()
            moment = _seconds(stamp)
            evidence = Evidence(
                "dpkg-log", f"{action} {old} -> {new} at {stamp}", str(path), number
            )
            if open_period is not None:
                version, since, proofs = open_period
                periods.append(
                    VersionPeriod(
                        version, since, moment, action in ("remove", "purge"), (*proofs, evidence)
                    )
                )
                open_period = None
            elif old != "<none>" and action in ("upgrade", "remove", "purge"):
                # the logs start after the old version was installed: its start is unknown
                periods.append(VersionPeriod(old, None, moment, action != "upgrade", (evidence,)))
            if action in ("install", "upgrade") and new != "<none>":
                open_period = (new, moment, [evidence])
    if open_period is not None:
        version, since, proofs = open_period
        periods.append(VersionPeriod(version, since, None, False, tuple(proofs)))
    return ExposureHistory(name, tuple(periods), tuple(read))


def vulnerable_window(
    history: ExposureHistory, is_vulnerable: Callable[[str], bool]
) -> tuple[float | None, float | None] | None:
    """From the first vulnerable version's install to the moment the last vulnerable version was
    replaced (None: a vulnerable version is still on disk); ``is_vulnerable`` comes from the fix
    check. None when no vulnerable version shows in the logs."""
    vulnerable = [period for period in history.periods if is_vulnerable(period.version)]
    if not vulnerable:
        return None
    return vulnerable[0].installed, vulnerable[-1].replaced


@dataclass(frozen=True, slots=True)
class VulnerableWindow:
    """When a vulnerable version of ``package`` was on disk, as dpkg's log shows it: from the
    install (or upgrade) of the first vulnerable version (``start``; None: before the oldest log)
    to the upgrade that replaced the last one (``end``; None: a vulnerable version is still on
    disk). ``versions`` the vulnerable versions in order, ``replaced_by`` the version that ended
    the window; ``evidence`` the log lines of both ends."""

    package: str
    start: float | None
    end: float | None
    versions: tuple[str, ...]
    replaced_by: str | None
    evidence: tuple[Evidence, ...]

    def describe(self) -> str:
        """``vulnerable from 2025-06-24 14:36 (3.0.16-1) to 2026-05-09 07:29 (3.0.19-1)``."""
        start = "before the oldest dpkg log" if self.start is None else _stamp(self.start)
        end = (
            "now (still installed)"
            if self.end is None
            else f"{_stamp(self.end)} ({self.replaced_by or 'removed'})"
        )
        return f"vulnerable from {start} ({self.versions[0]}) to {end}"


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def window_of(
    history: ExposureHistory, is_vulnerable: Callable[[str], bool]
) -> VulnerableWindow | None:
    """:func:`vulnerable_window` with the versions, the one that replaced them, and the log lines
    (None when no vulnerable version shows in the logs)."""
    vulnerable = [
        (number, period)
        for number, period in enumerate(history.periods)
        if is_vulnerable(period.version)
    ]
    if not vulnerable:
        return None
    first, last = vulnerable[0][1], vulnerable[-1][1]
    following = history.periods[vulnerable[-1][0] + 1 : vulnerable[-1][0] + 2]
    replaced_by = (
        following[0].version
        if following and last.replaced is not None and not last.removed
        else None
    )
    evidence = (*first.evidence[:1], *(last.evidence[-1:] if last.replaced is not None else ()))
    return VulnerableWindow(
        history.package,
        first.installed,
        last.replaced,
        tuple(dict.fromkeys(period.version for _, period in vulnerable)),
        replaced_by,
        evidence,
    )


@dataclass(frozen=True, slots=True)
class ExposureWindow:
    """A running process has had ``version`` mapped from ``start`` until now (it still runs)."""

    pid: int
    version: str
    start: float
    replaced_on_disk: float | None
    evidence: tuple[Evidence, ...]


def exposure_windows(
    root: Path,
    package: str,
    started: Sequence[tuple[int, float | None]],
    warnings: list[str] | None = None,
) -> tuple[ExposureHistory, tuple[ExposureWindow, ...]]:
    """The package's history and, for each ``(pid, start time)`` of a process that maps it, the
    version it loaded (the one on disk when it started) and since when. A process whose start
    falls before the logs begin, or that has no start time, gets no window."""
    history = exposure_history(root, package, warnings)
    windows = []
    for pid, start in started:
        if start is None:
            continue
        period = history.version_at(start)
        if period is None:
            continue
        windows.append(ExposureWindow(pid, period.version, start, period.replaced, period.evidence))
    return history, tuple(windows)
