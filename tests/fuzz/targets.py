"""One fuzz target per parser: the bytes of an input file in, nothing out but depgraph's own errors.

Every target feeds its input through the parser's public entry point the way the command line
does (written to a file when the parser reads files, so decompression and decoding are exercised
too), in strict and in lenient mode where the parser has both, and then uses what came back (the
methods a report calls), so that a result that is malformed inside fails here rather than later.

The only exceptions allowed out are :class:`~depgraph.errors.DepgraphError` and its subclasses
(``ParseError``, ``SourceError``, ``ProfileError``, ``UsageError``: the command line turns them
into one line on stderr) and, for the two helpers whose contract is to raise it, the documented
``ValueError`` of ``versions.split`` and ``RelationSyntaxError`` of ``relations``. Anything else
(``IndexError``, ``UnicodeDecodeError``, ``OverflowError``, an int past Python's digit limit,
``RecursionError``) is a bug, and so is a property that fails (an order that is not antisymmetric,
a relation that does not parse back to itself).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from depgraph.debian.changelog import entries_after, read_changelog
from depgraph.debian.relations import (
    RelationSyntaxError,
    format_group,
    parse_group,
    parse_provides,
    parse_relations,
)
from depgraph.debian.upstream_changes import read_upstream_changes
from depgraph.debian.versions import compare, satisfies, split
from depgraph.diagnostics import Diagnostics
from depgraph.errors import DepgraphError, ParseError, SourceError
from depgraph.model import Origin
from depgraph.openssl_version import parse_openssl_version
from depgraph.profiles.loader import parse_affected, parse_profile
from depgraph.release import detect_release, parse_release
from depgraph.runtime.cgroup import placement
from depgraph.runtime.library import library_files
from depgraph.runtime.maps import parse_line
from depgraph.runtime.scan import scan_maps_file
from depgraph.runtime.sockets import TABLES, parse_table
from depgraph.sources.control import read_control_file
from depgraph.sources.dpkg_info import file_list
from depgraph.sources.dpkg_list import read_dpkg_list
from depgraph.sources.dpkg_status import (
    dpkg_states,
    duplicate_records,
    read_status,
    read_status_d,
)
from depgraph.sources.files import (
    Kind,
    Where,
    iter_chunks,
    iter_lines,
    open_input,
    read_bytes,
    read_text,
)
from depgraph.sources.rdepends_text import read_rdepends
from tests.fuzz import strategies


@dataclass(frozen=True, slots=True)
class Target:
    """A parser's fuzz target: how to make inputs, and how to feed one to the parser."""

    name: str
    inputs: st.SearchStrategy[bytes]
    run: Callable[[bytes, Path], None]
    """``run(data, workdir)``: raises only what ``allowed`` lists, unless depgraph has a bug."""
    allowed: tuple[type[BaseException], ...] = (DepgraphError,)


def _file(workdir: Path, name: str, data: bytes) -> Path:
    path = workdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _both_modes(parse: Callable[[Diagnostics], object]) -> None:
    """Parse in strict mode (which may refuse with a DepgraphError), then in lenient mode."""
    with contextlib.suppress(DepgraphError):
        parse(Diagnostics(strict=True))
    parse(Diagnostics(strict=False))


def _warned_lines(diagnostics: Diagnostics) -> None:
    for warning in diagnostics.warnings:
        assert "\n" not in warning.message, f"a warning spans lines: {warning.message[:200]!r}"


def run_status(data: bytes, workdir: Path) -> None:
    root = workdir / "root"
    path = _file(root, "var/lib/dpkg/status", data)

    def parse(diagnostics: Diagnostics) -> None:
        for package in read_status(path, diagnostics):
            assert package.name and package.state is not None
            for _kind, groups in package.relations:
                for group in groups:
                    format_group(group)
        _warned_lines(diagnostics)

    _both_modes(parse)
    dpkg_states(root)
    # the same text as the scan for libapt's dropped duplicates and as a distroless status.d record
    for records in duplicate_records(path, "amd64", Diagnostics()).values():
        assert len(records) > 1
    _both_modes(lambda diagnostics: read_status_d([path], diagnostics))


def run_packages(data: bytes, workdir: Path) -> None:
    path = _file(workdir, "Packages", data)

    def parse(diagnostics: Diagnostics) -> None:
        for package in read_control_file(path, Origin.PACKAGES, diagnostics):
            assert package.version is None or split(package.version)
        _warned_lines(diagnostics)

    _both_modes(parse)


def run_relations(data: bytes, _workdir: Path) -> None:
    text = data.decode("utf-8", "replace")
    try:
        groups = parse_relations(text)
    except RelationSyntaxError:
        return
    for group in groups:
        written = format_group(group)
        again = parse_group(written)
        assert again == group, f"{written!r} parses back as {again!r}, not {group!r}"
        for relation in group:
            if relation.version is not None:
                split(relation.version)
    with contextlib.suppress(RelationSyntaxError):
        parse_provides(text)


def run_versions(data: bytes, _workdir: Path) -> None:
    texts = data.decode("utf-8", "replace").split("\n")[:3]
    valid = []
    for text in texts:
        try:
            split(text)
        except ValueError:
            continue
        valid.append(text)
    for left in valid:
        assert compare(left, left) == 0, f"{left!r} is not equal to itself"
        for right in valid:
            forward, backward = compare(left, right), compare(right, left)
            assert forward == -backward, f"{left!r} vs {right!r}: {forward} but {backward}"
            assert satisfies(left, ">=", right) == (forward >= 0)
    ordered = sorted(valid, key=functools.cmp_to_key(compare))
    for index, low in enumerate(ordered):
        for high in ordered[index + 1 :]:
            assert compare(low, high) <= 0, f"order not transitive among {valid!r}"


def run_dpkg_list(data: bytes, workdir: Path) -> None:
    path = _file(workdir, "dpkg-l.txt", data)

    def parse(diagnostics: Diagnostics) -> None:
        for listed in read_dpkg_list(path, diagnostics):
            assert listed.package.name
        _warned_lines(diagnostics)

    _both_modes(parse)


def run_rdepends(data: bytes, workdir: Path) -> None:
    path = _file(workdir, "rdepends.txt", data)

    def parse(diagnostics: Diagnostics) -> None:
        for dependency in read_rdepends(path, diagnostics):
            assert dependency.dependent and dependency.target
        _warned_lines(diagnostics)

    _both_modes(parse)


def run_changelog(data: bytes, workdir: Path) -> None:
    path = _file(workdir, "changelog.Debian.gz", data)
    diagnostics = Diagnostics(strict=True)  # documentation is warned about, never refused
    changelog = read_changelog(path, diagnostics)
    _warned_lines(diagnostics)
    if changelog is None:
        return
    for entry in changelog.entries:
        entry.describe()
        for cve in entry.cves():
            assert entry.mentions(cve), f"{cve} named by {entry.heading!r} but not found again"
    changelog.mentioning("CVE-2014-0160")
    entries_after(changelog, "1.0.1e-2")


def run_upstream_changes(data: bytes, workdir: Path) -> None:
    path = _file(workdir, "changelog.gz", data)
    diagnostics = Diagnostics(strict=True)
    changes = read_upstream_changes(path, diagnostics)
    _warned_lines(diagnostics)
    if changes is None:
        return
    named = {cve for section in changes.sections for cve, _line, _text in section.cves}
    for cve in sorted(named)[:5]:  # a profile names a few CVEs; each lookup scans every section
        for installed in ("1.0.1e", "3.0.11", "1.0.2-beta1"):
            changes.fixed_in(cve, installed)


_LIBRARY = library_files(Path("/nonexistent-root"), "libssl1.0.0")


def run_maps(data: bytes, workdir: Path) -> None:
    assert _LIBRARY is not None
    text = data.decode("utf-8", "surrogateescape")  # how `depgraph restart --maps` reads it
    for line in text.splitlines():
        parse_line(line)
    scan = scan_maps_file(_LIBRARY, workdir / "maps.txt", text)
    for process in scan.processes:
        for mapping in process.mappings:
            mapping.device_numbers  # noqa: B018 - the property parses the device field
        process.needs_restart  # noqa: B018
    scan_maps_file(_LIBRARY, workdir / "maps.txt", data.decode("utf-8", "replace"))


def run_sockets(data: bytes, _workdir: Path) -> None:
    text = data.decode("ascii", "replace")  # how read_tables opens the live tables
    for name, version in TABLES:
        for listener in parse_table(text, name.rstrip("6"), version).values():
            str(listener)
    parse_table(data.decode("utf-8", "surrogateescape"), "tcp", 6)


def run_cgroup(data: bytes, _workdir: Path) -> None:
    where = placement(data.decode("utf-8", "replace"))
    where.container_text  # noqa: B018


def run_release(data: bytes, workdir: Path) -> None:
    root = workdir / "release-root"
    names = ("etc/os-release", "etc/lsb-release", "etc/debian_version")
    parts = data.split(strategies.FILE_SEPARATOR)
    for index, name in enumerate(names):
        if index < len(parts):
            _file(root, name, parts[index])
        else:
            (root / name).unlink(missing_ok=True)
    release = detect_release(root, Diagnostics(strict=False))
    if release is not None:
        str(release)
        release.candidates()
    text = data.split(strategies.FILE_SEPARATOR)[-1].decode("utf-8", "replace")
    with contextlib.suppress(DepgraphError):
        parse_release(text[:200])


def run_openssl(data: bytes, _workdir: Path) -> None:
    found = parse_openssl_version(data.decode("utf-8", "replace"))
    if found is not None:
        found.effective_version  # noqa: B018
        found.built_before(datetime.date(2014, 4, 7))


def run_profile(data: bytes, _workdir: Path) -> None:
    profile = parse_profile(data, "fuzz.toml")
    profile.to_report()
    # what the schema promises of a profile that loads (issue 23): Policy 5.6.1 names, ranges
    # that hold a version, text without control characters
    for name in (*profile.libraries, *(e.package for e in profile.exposures)):
        assert re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name), name
    for text in (
        profile.id,
        profile.title,
        *profile.references,
        *(s.text for s in profile.remediation),
    ):
        assert not any(unicodedata.category(char) == "Cc" for char in text), text
    for affected in profile.affected:
        assert affected.contains(affected.introduced, affected.introduced), affected
    profile.fixed_for("debian", "wheezy")
    for affected in profile.affected:
        str(affected)
        affected.contains("1.0.1e")
        affected.contains("1.0.1e", "1:1.0.1e-2+deb7u5")
    # the same bytes as an --affected spec: an error or a range, never a crash
    with contextlib.suppress(DepgraphError):
        given = parse_affected(data.decode("utf-8", "replace")[:400])
        given.contains("5.4.5", "5.6.1+really5.4.5-1")
        str(given)


def run_compressed(data: bytes, workdir: Path) -> None:
    """The one opener's decompression: the whole and the streamed reads agree, byte for byte and
    line for line, or both refuse at the same line."""
    path = _file(workdir, "input", data)
    try:
        whole = read_bytes(path, Kind.PACKAGES)
    except SourceError:
        whole = None
    with open_input(path, Kind.PACKAGES) as handle:
        try:
            streamed = b"".join(iter_chunks(handle, Kind.PACKAGES, Where(path, None)))
        except SourceError:
            streamed = None
    assert whole == streamed
    try:
        text = read_text(path, Kind.PACKAGES)
    except ParseError as error:
        with contextlib.suppress(SourceError):
            try:
                list(iter_lines(path, Kind.PACKAGES))
            except ParseError as again:
                assert again.line == error.line, (again.line, error.line)
            else:
                raise AssertionError("read_text refused what iter_lines read") from None
        return
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    assert list(iter_lines(path, Kind.PACKAGES)) == lines


def run_file_list(data: bytes, workdir: Path) -> None:
    """A package's ``.list`` in a tree, as the dependents' roles and ``restart`` read it."""
    root = workdir / "root"
    _file(root, "var/lib/dpkg/info/libssl1.0.0:amd64.list", data)
    listed = file_list(root, "libssl1.0.0", "amd64")
    assert listed is None or all(line.startswith("/") for line in listed)
    found = library_files(root, "libssl1.0.0:amd64")
    assert found is None or all(path.startswith("/") for path in found.paths)


def _manifest_target() -> Target | None:
    """The snapshot manifest's target, when the snapshot reader (``depgraph collect``) is there."""
    try:
        from depgraph.sources.snapshot import read_manifest
    except ImportError:
        return None

    def run_manifest(data: bytes, workdir: Path) -> None:
        path = _file(workdir, "depgraph-snapshot/manifest.json", data)
        manifest = read_manifest(workdir / "snapshot.tar.gz", path)
        assert all(isinstance(item, str) for item in manifest.captured)

    return Target("snapshot-manifest", strategies.manifest(), run_manifest)


def run_snapshot_tar(data: bytes, workdir: Path) -> None:
    """The tarball's checks (``unpack``), strict then ``--lenient``, into a fresh directory."""
    import gzip
    import shutil

    from depgraph.sources.snapshot import read_manifest, unpack

    path = _file(workdir, "snapshot.tar.gz", gzip.compress(data, mtime=0))

    def parse(diagnostics: Diagnostics) -> None:
        tree = workdir / "unpacked"
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir()
        try:
            unpack(path, tree, diagnostics)
            read_manifest(path, tree / "depgraph-snapshot/manifest.json")
            _warned_lines(diagnostics)
        finally:
            shutil.rmtree(tree, ignore_errors=True)

    _both_modes(parse)


def run_saved_proc(data: bytes, workdir: Path) -> None:
    """A saved /proc read back (``scan_saved``), its processes used as a report uses them."""
    import shutil

    from depgraph.runtime.report import process_entry
    from depgraph.runtime.saved_proc import scan_saved
    from depgraph.runtime.scan import unreadable_sentence

    assert _LIBRARY is not None
    proc = workdir / "proc"
    shutil.rmtree(proc, ignore_errors=True)
    parts = data.split(strategies.FILE_SEPARATOR)
    for index, name in enumerate(strategies.SAVED_PROC_FILES):
        if index < len(parts) and parts[index] != b"\0MISSING":
            folder = proc if index < 4 else proc / "7"
            _file(folder, name, parts[index])
    proc.mkdir(exist_ok=True)
    scan = scan_saved(_LIBRARY, proc, "snapshot.tar.gz")
    for process in scan.processes:
        process_entry(process)
        process.needs_restart  # noqa: B018
    unreadable_sentence([scan])


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("dpkg-status", strategies.deb822(), run_status),
        Target("packages-index", strategies.deb822(), run_packages),
        Target(
            "relations",
            st.one_of(strategies.relation_field(), strategies.junk).map(str.encode),
            run_relations,
            (DepgraphError, RelationSyntaxError),
        ),
        Target("versions", strategies.version_triple(), run_versions),
        Target("dpkg-list", strategies.dpkg_list(), run_dpkg_list),
        Target("rdepends", strategies.rdepends(), run_rdepends),
        Target("changelog", strategies.changelog(), run_changelog),
        Target("upstream-changes", strategies.upstream_changes(), run_upstream_changes),
        Target("proc-maps", strategies.maps(), run_maps),
        Target("proc-net", strategies.net_table(), run_sockets),
        Target("cgroup", strategies.cgroup(), run_cgroup),
        Target("os-release", strategies.release_files(), run_release),
        Target("openssl-version", strategies.openssl_version(), run_openssl),
        Target("profile", strategies.profile(), run_profile),
        Target("compressed-input", strategies.compressed(), run_compressed),
        Target("file-list", strategies.file_list(), run_file_list),
        _manifest_target(),
        Target("snapshot-tar", strategies.snapshot_tar(), run_snapshot_tar),
        Target("saved-proc", strategies.saved_proc(), run_saved_proc),
    )
    if target is not None
}


def workdir() -> Path:
    """A private scratch directory for the targets' files (removed by the caller).

    In memory when ``/dev/shm`` is there: on ext4, truncating and rewriting one file thousands of
    times a second forces a write-back each time (``auto_da_alloc``) and makes the disk the bottleneck.
    """
    memory = Path("/dev/shm")
    where = memory if memory.is_dir() and os.access(memory, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="depgraph-fuzz-", dir=where))


def check(target: Target, data: bytes, scratch: Path) -> None:
    """Run ``target`` on ``data``; an allowed error is a pass, anything else propagates."""
    with contextlib.suppress(target.allowed):
        target.run(data, scratch)
