"""``depgraph collect``: capture what the analysis needs from this host into one ``.tar.gz``.

The snapshot is the root tree :mod:`depgraph.sources.snapshot` reads back (its docstring and the
README's "Snapshots" give the layout): the dpkg database and file lists, ``dpkg.log*``, the
changelogs of the library packages (whole) and of their dependents (the newest entries), the
release files, ``dpkg -l``, ``openssl version -a``, the ELF evidence of the dependents (sonames
and the imported symbols the library exports; never the binaries), the ``/proc`` lines of the
processes that map the library with their sockets and cgroups, and the certificate metadata of
the servers' configured key material (never a private key). What cannot be read is named in the
manifest with the reason, and the audit of the snapshot shows it as a warning.

Read-only on the host: the only file written is the ``-o`` tarball (through a temporary file
beside it, renamed at the end), and the ELF cache under ``$XDG_CACHE_HOME``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import socket
import stat
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from depgraph.errors import UsageError
from depgraph.sources.snapshot import FORMAT, META

if TYPE_CHECKING:
    from depgraph.diagnostics import Diagnostics
    from depgraph.elf import ElfFacts
    from depgraph.model import Package
    from depgraph.sources.interface import PackageIndex

DEPENDENT_CHANGELOG_ENTRIES = 5
"""A dependent's ``changelog.Debian.gz`` is cut to its newest entries: the whole ones of 150
dependents are ~9 MB, and only the library packages' changelogs decide a fix."""
RELEASE_FILES = ("etc/os-release", "usr/lib/os-release", "etc/lsb-release", "etc/debian_version")
_ENTRY = re.compile(rb"^\S.*\(.*\).*;", re.M)


@dataclass(slots=True)
class Collected:
    """What went into the snapshot and what could not, and why."""

    captured: list[str] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    members: int = 0

    def miss(self, what: str, why: str) -> None:
        self.missing.append({"what": what, "why": why})


class _Writer:
    """Adds members to the tarball: regular files, text, relative symlinks; nothing else."""

    def __init__(self, tar: tarfile.TarFile, collected: Collected) -> None:
        self.tar = tar
        self.collected = collected
        self.names: set[str] = set()

    def data(self, name: str, data: bytes, mtime: float | None = None) -> None:
        if name in self.names:
            return
        self.names.add(name)
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        info.mtime = int(mtime if mtime is not None else time.time())
        info.uname = info.gname = "root"
        self.tar.addfile(info, io.BytesIO(data))
        self.collected.members += 1

    def text(self, name: str, text: str) -> None:
        self.data(name, text.encode("utf-8", "surrogateescape"))

    def file(self, name: str, path: Path, what: str | None = None) -> bool:
        from depgraph.sources.files import InputError, Kind, open_input

        try:  # a FIFO or device is not read (it would block or never end): it is missed
            with open_input(path, Kind.SNAPSHOT_MEMBER) as stream:
                mtime = os.fstat(stream.fileno()).st_mtime
                data = stream.read() or b""
        except InputError as error:
            if what is not None:
                self.collected.miss(what, f"{path}: {error.detail or error.reason}")
            return False
        except OSError as error:
            if what is not None:
                self.collected.miss(what, f"{path}: {error.strerror or error}")
            return False
        self.data(name, data, mtime)
        return True

    def link(self, name: str, target: str) -> None:
        if name in self.names or target.startswith("/"):
            return
        self.names.add(name)
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        self.tar.addfile(info)
        self.collected.members += 1


def default_libraries(root: Path = Path("/")) -> list[str]:
    """The installed libraries of the built-in profiles and the usual libssl packages."""
    from depgraph.profiles import builtin_profiles
    from depgraph.runtime.library import DEFAULT_CANDIDATES, installed

    names: list[str] = []
    for profile in builtin_profiles():
        names.extend(profile.libraries)
    names.extend(DEFAULT_CANDIDATES)
    return [name for name in dict.fromkeys(names) if installed(root, name)]


def collect(output: Path, libraries: list[str], *, with_lists: bool = False) -> Collected:
    """Write the snapshot of this host to ``output``; returns what was and was not captured."""
    from depgraph.diagnostics import Diagnostics

    root = Path("/")
    libraries = list(dict.fromkeys(libraries or default_libraries(root)))
    collected = Collected()
    directory = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise UsageError(f"{output}: is a directory; give the snapshot's file name")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.")
    except OSError as error:
        raise UsageError(f"{output}: cannot write: {error.strerror or error}") from None
    try:
        with (
            os.fdopen(handle, "wb") as stream,
            gzip.GzipFile(fileobj=stream, mode="wb", compresslevel=6, mtime=0) as packed,
            tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            writer = _Writer(tar, collected)
            diagnostics = Diagnostics(strict=False)
            _system(writer, root)
            index, dependents = _packages(writer, root, libraries, diagnostics)
            _changelogs(writer, root, libraries, [name for name, _ in dependents])
            _commands(writer)
            if index is not None:
                _elf(writer, index, libraries, dependents)
            _processes(writer, root, libraries)
            _keys(writer)
            if with_lists:
                _lists(writer, root)
            writer.text(f"{META}/manifest.json", _manifest(libraries, collected))
        os.chmod(temporary, 0o600)
        try:
            os.replace(temporary, output)
        except OSError as error:
            raise UsageError(f"{output}: cannot write: {error.strerror or error}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return collected


def _manifest(libraries: list[str], collected: Collected) -> str:
    uname = os.uname()
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_text

    try:
        os_release = read_text("/etc/os-release", Kind.CONFIG)
    except DepgraphError:
        os_release = ""
    manifest = {
        "format": FORMAT,
        "host": socket.gethostname(),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "kernel": f"{uname.sysname} {uname.release} {uname.version} {uname.machine}",
        "os_release": os_release,
        "collector": "depgraph collect (Python)",
        "libraries": libraries,
        "captured": collected.captured,
        "missing": collected.missing,
    }
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"


def _system(writer: _Writer, root: Path) -> None:
    for name in RELEASE_FILES:
        writer.file(name, root / name)
    if writer.file("var/lib/dpkg/status", root / "var/lib/dpkg/status", "dpkg status"):
        writer.collected.captured.append("dpkg-status")
    info = root / "var/lib/dpkg/info"
    try:
        lists = sorted(name for name in os.listdir(info) if name.endswith(".list"))
    except OSError as error:
        writer.collected.miss("dpkg file lists", f"{info}: {error.strerror or error}")
        lists = []
    for name in lists:
        writer.file(f"var/lib/dpkg/info/{name}", info / name)
    if lists:
        writer.collected.captured.append("dpkg-lists")
    logs = sorted((root / "var/log").glob("dpkg.log*"))
    for path in logs:
        writer.file(f"var/log/{path.name}", path, f"var/log/{path.name}")
    if logs:
        writer.collected.captured.append("dpkg-log")
    else:
        writer.collected.miss("dpkg.log", "no /var/log/dpkg.log* on this host")


def _packages(
    writer: _Writer, root: Path, libraries: list[str], diagnostics: Diagnostics
) -> tuple[PackageIndex | None, list[tuple[str, tuple[str, ...]]]]:
    """The package index and every installed package that depends on a library (any relation)."""
    from depgraph.errors import DepgraphError
    from depgraph.graph import reverse_closure
    from depgraph.load import SourceOptions, open_index
    from depgraph.model import RelationKind

    try:
        index = open_index(SourceOptions(), diagnostics)
    except DepgraphError as error:
        writer.collected.miss("dependents", f"the package database cannot be read: {error}")
        return None, []
    present = [name for name in libraries if index.lookup(name) is not None]
    for name in libraries:
        if name not in present:
            writer.collected.miss(f"library {name}", "not installed on this host")
    if not present:
        return index, []
    graph = reverse_closure(
        index,
        present,
        kinds=(
            RelationKind.PRE_DEPENDS,
            RelationKind.DEPENDS,
            RelationKind.RECOMMENDS,
            RelationKind.SUGGESTS,
        ),
        with_edges=False,
    )
    return index, [(node.package, node.path[1:-1]) for node in graph.dependents]


def _changelogs(writer: _Writer, root: Path, libraries: list[str], dependents: list[str]) -> None:
    for package in libraries:
        _docs(writer, root, package.partition(":")[0], whole=True)
    for package in dependents:
        _docs(writer, root, package.partition(":")[0], whole=False)
    writer.collected.captured.append("changelogs")
    writer.collected.captured.append(
        f"dependent-changelogs-newest-{DEPENDENT_CHANGELOG_ENTRIES}-entries"
    )


def _docs(writer: _Writer, root: Path, package: str, *, whole: bool) -> None:
    doc = root / "usr/share/doc" / package
    name = f"usr/share/doc/{package}"
    if doc.is_symlink():
        # Packages of one source share a doc directory; a link chain is stored as one link to
        # the end of the chain (what fixcheck names), and never one that leaves usr/share/doc.
        target_dir = doc.resolve()
        if target_dir.parent != (root / "usr/share/doc").resolve() or doc.is_symlink() is False:
            return
        target = target_dir.name
        writer.link(name, target)
        package, doc, name = target, root / "usr/share/doc" / target, f"usr/share/doc/{target}"
    try:
        entries = sorted(os.listdir(doc))
    except OSError:
        return
    for entry in entries:
        if not entry.startswith("changelog"):
            continue
        path = doc / entry
        if path.is_symlink() and not whole:
            continue
        if whole:
            writer.file(f"{name}/{entry}", path)
        elif entry.startswith("changelog.Debian"):
            _newest(writer, f"{name}/{entry}", path)


def _newest(writer: _Writer, name: str, path: Path) -> None:
    """The newest entries of a ``changelog.Debian.gz`` (deb-changelog(5): an entry starts with
    ``package (version) distributions; urgency=...`` at the start of a line)."""
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_bytes

    try:
        text = read_bytes(path, Kind.CHANGELOG)  # gzip by its magic, bounded
    except DepgraphError:
        return
    starts = [match.start() for match in _ENTRY.finditer(text)]
    if len(starts) > DEPENDENT_CHANGELOG_ENTRIES:
        text = text[: starts[DEPENDENT_CHANGELOG_ENTRIES]]
    data = gzip.compress(text, mtime=0) if path.name.endswith(".gz") else text
    writer.data(name, data, path.stat().st_mtime)


def _run(command: list[str]) -> tuple[str | None, str]:
    env = dict(os.environ, COLUMNS="300", LC_ALL="C")
    try:
        done = subprocess.run(
            command, capture_output=True, env=env, timeout=60, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        return None, f"{command[0]} is not installed"
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"{command[0]} failed: {error}"
    if done.returncode != 0 and not done.stdout:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"{' '.join(command)} exited {done.returncode}: {why[0] if why else ''}"
    return done.stdout.decode("utf-8", "surrogateescape"), ""


def _commands(writer: _Writer) -> None:
    for command, name, what in (
        (["dpkg", "-l"], "dpkg-l.txt", "dpkg-l"),
        (["openssl", "version", "-a"], "openssl-version.txt", "openssl-version"),
    ):
        output, why = _run(command)
        if output is None:
            writer.collected.miss(" ".join(command), why)
            continue
        writer.text(f"{META}/{name}", output)
        writer.collected.captured.append(what)


def _elf(
    writer: _Writer,
    index: PackageIndex,
    libraries: list[str],
    dependents: list[tuple[str, tuple[str, ...]]],
) -> None:
    """Sonames and imports of every ELF file of the libraries and their dependents; the imports
    only of the symbols the libraries export (what the classifier compares them with)."""
    from depgraph.classify import is_program
    from depgraph.elf_cache import ElfCache
    from depgraph.package_files import RootFiles

    cache = ElfCache(Path("/"))
    files = RootFiles(Path("/"), cache)
    candidates: dict[str, list[Path]] = {}

    def read(package: Package, wanted: frozenset[str] | None) -> list[ElfFacts]:
        key = _key(package)
        if key not in candidates:
            candidates[key] = _elf_files(files.files(package) or [])
        return [cache.read(path, symbols_if_needs=wanted) for path in candidates[key]]

    packages: dict[str, list[dict[str, object]]] = {}
    exported: set[str] = set()
    sonames_of: set[str] = set()
    for name in libraries:
        package = index.lookup(name)
        if package is None:
            continue
        facts = files.elves(package, frozenset(), with_exports=True)
        for item in facts:
            exported.update(item.exports)
            if item.soname:
                sonames_of.add(item.soname)
        packages[_key(package)] = [_facts(item, None, with_exports=True) for item in facts]
    symbols = frozenset(exported)
    sonames = frozenset(sonames_of)
    linking: set[str] = set()
    programs: set[str] = set()
    real = {key for key, _ in dependents}
    later = []
    for key, via in dependents:
        package = index.details(key)
        if package is None or _key(package) in packages:
            continue
        facts = read(package, sonames)
        users = [item for item in facts if not sonames.isdisjoint(item.needed)]
        if users:
            linking.add(key)
            if is_program(users):
                programs.add(key)
        packages[_key(package)] = [_facts(item, symbols, with_exports=False) for item in facts]
        later.append((package, via))
    for package, via in later:
        # The classifier reads every file's imports only for a package that does not link the
        # library itself and whose next real hop is a program that does (a module of nginx):
        # the same rule here, or every package under libsystemd0 would be read whole.
        hop = next((name for name in via if name in real), None)
        if package.name not in linking and hop in programs:
            packages[_key(package)] = [
                _facts(item, symbols, with_exports=False) for item in read(package, None)
            ]
    cache.save()
    evidence = {
        "format": 1,
        "imports": "only the symbols the library packages export",
        "libraries": libraries,
        "packages": packages,
    }
    writer.text(f"{META}/elf.json", json.dumps(evidence, separators=(",", ":")))
    writer.collected.captured.append("elf")


def _elf_files(names: list[str]) -> list[Path]:
    """The regular files among a package's paths that start with the ELF magic; a symlink in the
    last component is skipped, as :func:`depgraph.elf.elf_candidates` does (one ``open`` each)."""
    from depgraph.elf import ELF_MAGIC

    found = []
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for name in names:
        try:
            descriptor = os.open(name, flags)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(descriptor).st_mode) and os.read(descriptor, 4) == ELF_MAGIC:
                found.append(Path(name))
        except OSError:
            pass
        finally:
            os.close(descriptor)
    return found


def _key(package: Package) -> str:
    return f"{package.name}:{package.architecture}" if package.architecture else package.name


def _facts(
    facts: ElfFacts, symbols: frozenset[str] | None, *, with_exports: bool
) -> dict[str, object]:
    record: dict[str, object] = {"path": facts.path}
    if facts.problem:
        record["problem"] = facts.problem
        return record
    if facts.soname:
        record["soname"] = facts.soname
    if facts.needed:
        record["needed"] = list(facts.needed)
    imports = facts.imports if symbols is None else facts.imports & symbols
    if imports:
        record["imports"] = sorted(imports)
    if with_exports and facts.exports:
        record["exports"] = sorted(facts.exports)
    return record


def _processes(writer: _Writer, root: Path, libraries: list[str]) -> None:
    from depgraph.collect.proc import save_processes
    from depgraph.runtime.library import library_files

    needles: set[bytes] = set()
    for name in libraries:
        library = library_files(root, name)
        if library is not None:
            needles.update(library.needles)
    if not needles:
        writer.collected.miss("processes", "no library shared objects known to look for")
        return
    try:
        save_processes(writer.data, sorted(needles))
    except OSError as error:
        writer.collected.miss("processes", f"/proc cannot be read: {error.strerror or error}")
        return
    writer.collected.captured.append("proc")


def _keys(writer: _Writer) -> None:
    from depgraph.runtime.keys import find_key_material

    found = find_key_material(Path("/"))
    records = [
        {
            "server": item.server,
            "material": item.material.value,
            "path": item.path,
            "exists": item.exists,
            "holds_private_key": item.holds_private_key,
            "problem": item.problem,
            "certificates": [
                {
                    "subject": cert.subject,
                    "not_before": cert.not_before,
                    "not_after": cert.not_after,
                    "sha256": cert.sha256,
                    "serial": cert.serial,
                }
                for cert in item.certificates
            ],
            "evidence": {
                "kind": item.evidence.kind,
                "detail": item.evidence.detail,
                "path": item.evidence.path,
                "line": item.evidence.line,
            },
        }
        for item in found
    ]
    writer.text(f"{META}/keys.json", json.dumps({"format": 1, "material": records}, indent=1))
    writer.collected.captured.append("keys")


def _lists(writer: _Writer, root: Path) -> None:
    from depgraph.sources.packages_index import lists_under

    found = lists_under(root)
    for path in found:
        writer.file(f"var/lib/apt/lists/{path.name}", path)
    if found:
        writer.collected.captured.append("apt-lists")
    else:
        writer.collected.miss("apt lists", "no Packages indexes under /var/lib/apt/lists")
