"""What init system a tree runs and the services its packages ship, for the restart step.

The init system is what ``/sbin/init`` is: a symlink into systemd or upstart when the tree has one,
else the installed package that ships ``/sbin/init`` (``systemd-sysv``, ``upstart`` on Ubuntu
9.10 to 14.10, ``sysvinit-core``, or ``sysvinit`` before Debian 8). A package's services are its
systemd units (systemd.unit(5), ``lib/systemd/system/*.service``), upstart jobs (init(5) of upstart,
``/etc/init/*.conf``) and LSB init scripts (``/etc/init.d/*``), read from its dpkg file list
(``var/lib/dpkg/info/PACKAGE.list``) and from the ``Conffiles`` field of the status file (dpkg(1);
Debian Policy 10.7.3: init scripts and upstart jobs are conffiles), so a status file without file
lists still names them. Nothing here runs a command.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from depgraph.debian.deb822 import iter_paragraphs
from depgraph.errors import DepgraphError
from depgraph.rootpath import resolve_in_root, under_root
from depgraph.sources.files import Kind, iter_lines, read_text
from depgraph.sources.interface import PackageIndex


class InitSystem(enum.Enum):
    SYSTEMD = "systemd"
    UPSTART = "upstart"
    SYSVINIT = "sysvinit"


_INIT_PACKAGES = (
    ("systemd-sysv", InitSystem.SYSTEMD),
    ("upstart", InitSystem.UPSTART),
    ("sysvinit-core", InitSystem.SYSVINIT),
    ("sysvinit", InitSystem.SYSVINIT),
)
"""The packages that ship ``/sbin/init``, the one that wins first (systemd-sysv replaces the rest)."""


@dataclass(frozen=True, slots=True)
class Service:
    """``package`` ships the service ``name`` as ``kind`` (``systemd-unit``, ``upstart-job``,
    ``init-script``); ``where``: the file list or status line that says so."""

    package: str
    name: str
    kind: str
    where: str


@dataclass(frozen=True, slots=True)
class Services:
    """The tree's init system (None: could not be told, ``init_evidence`` says why) and the
    services of the packages asked about."""

    init: InitSystem | None
    init_evidence: str
    services: tuple[Service, ...] = ()

    def of(self, package: str) -> tuple[Service, ...]:
        name = package.partition(":")[0]
        return tuple(s for s in self.services if s.package == name)

    def command(self, service: Service) -> str | None:
        """The restart command for the tree's init system; ``service`` (sysvinit-utils) reaches
        upstart jobs and init scripts alike, and systemd's wrapper too when the init is unknown.
        None for a template unit, which has no single instance to restart."""
        if "@" in service.name:
            return None
        if self.init is InitSystem.SYSTEMD:
            unit = service.name if service.kind == "systemd-unit" else service.name + ".service"
            return f"systemctl restart {unit}"
        if service.kind == "systemd-unit":
            # a unit on a tree that does not boot systemd is not what runs
            return None
        return f"service {service.name} restart"


def find_services(index: PackageIndex, root: Path | None, packages: Iterable[str]) -> Services:
    """The init system of the tree at ``root`` (None: saved lists, only the package list) and
    the services ``packages`` ship."""
    init, why = _init_system(index, root)
    wanted = {p.partition(":")[0] for p in packages}
    found: dict[tuple[str, str], Service] = {}
    if root is not None and wanted:
        for service in (*_from_lists(root, index, wanted), *_from_conffiles(root, wanted)):
            # the same name as unit, job and script is one service
            found.setdefault((service.package, service.name), service)
    ordered = sorted(found.values(), key=lambda s: (s.package, s.name))
    return Services(init, why, tuple(ordered))


def _init_system(index: PackageIndex, root: Path | None) -> tuple[InitSystem | None, str]:
    if root is not None:
        link = resolve_in_root(root, "/sbin/init", follow_last=False)
        if link is not None and link.is_symlink():
            target = str(link.readlink())
            for kind in (InitSystem.SYSTEMD, InitSystem.UPSTART):
                if kind.value in target:
                    return kind, f"/sbin/init is a link to {target}"
    for name, kind in _INIT_PACKAGES:
        package = index.lookup(name)
        if package is not None and package.installed:
            return kind, f"{name} is installed"
    return None, "no package that ships /sbin/init is installed"


def _service(package: str, path: str, where: str) -> Service | None:
    directory, _, base = path.rpartition("/")
    if directory in ("/lib/systemd/system", "/usr/lib/systemd/system") and base.endswith(
        ".service"
    ):
        return Service(package, base, "systemd-unit", where)
    if directory == "/etc/init" and base.endswith(".conf"):
        return Service(package, base.removesuffix(".conf"), "upstart-job", where)
    if directory == "/etc/init.d" and base and not base.startswith(".") and base != "README":
        return Service(package, base, "init-script", where)
    return None


def _from_lists(root: Path, index: PackageIndex, wanted: set[str]) -> Iterable[Service]:
    for name in sorted(wanted):
        package = index.lookup(name)
        arch = package.architecture if package is not None else None
        for stem in (name, f"{name}:{arch}" if arch else None):
            if stem is None:
                continue
            path = under_root(root, f"/var/lib/dpkg/info/{stem}.list")
            try:  # missing, unreadable (as nobody), a FIFO: no services from this list
                lines = list(iter_lines(path, Kind.FILE_LIST))
            except DepgraphError:
                continue
            for line in lines:
                service = _service(name, line.strip(), str(path))
                if service is not None:
                    yield service


def _from_conffiles(root: Path, wanted: set[str]) -> Iterable[Service]:
    path = under_root(root, "/var/lib/dpkg/status")
    try:
        text = read_text(path, Kind.STATUS)
    except DepgraphError:
        return  # the package reader has said what is wrong with it

    def ignore(_path: str, _line: int, _reason: str) -> None:
        return None

    fields = frozenset({"Package", "Conffiles"})
    for line, paragraph in iter_paragraphs(text, str(path), fields, strict=False, warn=ignore):
        name = paragraph.get("Package", "")
        if name not in wanted or "Conffiles" not in paragraph:
            continue
        for entry in paragraph["Conffiles"].split("\n"):
            words = entry.split()
            if not words or "obsolete" in words[2:]:
                continue  # dpkg keeps an obsolete conffile's record after the file left the package
            service = _service(name, words[0], f"{path}:{line}")
            if service is not None:
                yield service
