"""dpkg's status database, ``/var/lib/dpkg/status`` (dpkg(1), deb822(5)), and the
``/var/lib/dpkg/status.d`` directory of distroless images.

Every paragraph is a package dpkg knows of, with its ``Status: want flag state``; packages in
``not-installed`` are kept (they matter for ``rc`` history) but never count as installed. Images built
without dpkg (GoogleContainerTools/distroless) have no status file but one file per installed
package in ``status.d``: the package's control fields (``dpkg-deb --field``), without ``Status``,
next to its ``<package>.md5sums``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from depgraph.debian.deb822 import iter_paragraphs
from depgraph.diagnostics import Diagnostics
from depgraph.errors import DepgraphError, ParseError, SourceError
from depgraph.model import Origin, Package
from depgraph.rootpath import LOOP_SUFFIX, is_loop, under_root
from depgraph.sources.control import WANTED, package_from_fields, read_control_file
from depgraph.sources.files import Kind, read_text

STATUS_PATH = Path("var/lib/dpkg/status")
STATUS_D_PATH = Path("var/lib/dpkg/status.d")
INSTALLED = "install ok installed"
"""The ``Status`` of a ``status.d`` record, which has none: the image holds the package's files."""


def read_status(path: Path, diagnostics: Diagnostics, option: str | None = None) -> list[Package]:
    """All packages of a saved or live dpkg status file; ``option`` (``--status``) names where the
    path came from, in errors."""
    return list(read_control_file(path, Origin.STATUS, diagnostics, option))


def check_status(path: Path) -> None:
    """Refuse a root's status file that cannot be read as one, before any reader (or libapt) tries:
    missing is "no dpkg status file"; a FIFO, device, loop, oversize file or a folder dpkg's
    database is in that cannot be entered is the reason itself (:mod:`depgraph.sources.files`)."""
    from depgraph.errors import SourceError
    from depgraph.sources.files import InputError, Kind, Why, open_input

    try:
        open_input(path, Kind.STATUS).close()
    except InputError as error:
        if error.why is Why.MISSING and is_loop(path):
            shown = Path(str(path).removesuffix(LOOP_SUFFIX))
            raise SourceError(shown, "a symlink loop in the tree, not a status file") from None
        if error.why is Why.MISSING:
            raise SourceError(
                path, "no dpkg status file (is this the root of a Debian system?)"
            ) from None
        raise


def status_under(root: Path) -> Path:
    """Where dpkg keeps its status file under ``root``."""
    return under_root(root, str(STATUS_PATH))


def status_d_files(root: Path) -> list[Path]:
    """The package records of ``var/lib/dpkg/status.d`` under ``root`` (not the ``.md5sums``
    files), in name order; empty when there is no such directory."""
    directory = under_root(root, str(STATUS_D_PATH))
    if not os.path.isdir(directory):  # never raises (an unreadable var/lib/dpkg as nobody)
        return []
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        raise SourceError(directory, f"cannot list: {error.strerror or error}") from None
    return [path for path in entries if not path.name.endswith(".md5sums")]


def read_status_d(paths: list[Path], diagnostics: Diagnostics) -> list[Package]:
    """The packages of distroless ``status.d`` records: each file one or more paragraphs, a
    paragraph without ``Status`` installed. Anything but a regular file is skipped with a warning
    (a FIFO would block, a directory is not a record)."""
    packages: list[Package] = []
    for path in paths:
        if path.is_symlink() or not path.is_file():
            diagnostics.warn(str(path), 0, "not a regular file; skipped")
            continue
        text = read_text(path, Kind.STATUS)
        shown = str(path)
        for line, fields in iter_paragraphs(
            text, shown, WANTED, strict=diagnostics.strict, warn=diagnostics.warn
        ):
            fields.setdefault("Status", INSTALLED)
            package = package_from_fields(fields, shown, line, Origin.STATUS, diagnostics)
            if package is not None:
                packages.append(package)
    return packages


_NAME_AND_STATUS = re.compile(r"^(Package|Status): *(\S.*)$", re.MULTILINE)


_GONE = {"not-installed": 0, "config-files": 1}
"""dpkg states whose files are not on disk, by how much is left (rc keeps the configuration)."""


def dpkg_states(root: Path) -> dict[str, str]:
    """Package name -> dpkg state (the third word of ``Status``) of the status file under ``root``,
    by a quick scan (no full parse); empty when the file cannot be read. A name recorded for more
    than one architecture (``Multi-Arch: same``, or a duplicate) gets the state with the most on
    disk: any state with files beats ``config-files``, which beats ``not-installed``."""
    try:
        text = read_text(status_under(root), Kind.STATUS)
    except DepgraphError:
        return {}
    states: dict[str, str] = {}
    for paragraph in text.split("\n\n"):
        fields = dict(_NAME_AND_STATUS.findall(paragraph))
        words = fields.get("Status", "").split()
        if "Package" in fields and len(words) == 3:
            name = fields["Package"].strip()
            known = states.get(name)
            if known is None or _GONE.get(words[2], 2) > _GONE.get(known, 2):
                states[name] = words[2]
    return states


SHOWN_DUPLICATES = 10
"""Duplicates warned about one by one per file; the rest are counted in one line."""


class DuplicateWarnings:
    """Warns about second records of one name:architecture (dpkg keeps one per ``Package`` and
    ``Architecture``, Policy 7.1 and dpkg's ``Multi-Arch: same``): a warning at the second that
    names the first, with both versions, for the first :data:`SHOWN_DUPLICATES` of each file, and
    one line counting the others (a status file concatenated with itself has thousands)."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        self._diagnostics = diagnostics
        self._counts: dict[str, int] = {}

    def add(self, key: str, first: Package, again: Package) -> None:
        """``again`` is another record of ``key``, of which ``first`` was the first."""
        path, _, line = again.where.rpartition(":")
        count = self._counts[path] = self._counts.get(path, 0) + 1
        if count > SHOWN_DUPLICATES:
            return
        first_path, _, first_line = first.where.rpartition(":")
        at = f"line {first_line}" if first_path == path else first.where
        self._diagnostics.warn(
            path,
            int(line) if line.isdigit() else 0,
            f"{key} is recorded again (first at {at}, version {first.version or '<none>'}; here "
            f"{again.version or '<none>'}): every record is judged and the worst counts",
        )

    def close(self) -> None:
        """The count of the duplicates not warned about one by one."""
        for path, count in self._counts.items():
            if count > SHOWN_DUPLICATES:
                self._diagnostics.warn(
                    path,
                    0,
                    f"{count - SHOWN_DUPLICATES} more records repeat a name:architecture "
                    "recorded before (not listed); each is judged",
                )


_KEY_FIELDS = frozenset(("Package", "Architecture"))


def duplicate_records(
    path: Path, native: str | None, diagnostics: Diagnostics
) -> dict[tuple[str, str | None], tuple[Package, ...]]:
    """(name, architecture) -> every record of it, for the names a status file records more than
    once, each duplicate warned about; ``all`` and no architecture count as ``native``.

    For a reader that dedups itself (libapt keeps one record per name:architecture, silently): a
    scan of ``Package`` and ``Architecture`` alone, and a full parse of only the duplicated
    paragraphs. A file that cannot be read or parsed gives nothing here; its reader says why.
    """
    try:
        text = read_text(path, Kind.STATUS)
    except (SourceError, ParseError):
        return {}
    shown = str(path)

    def ignore(_path: str, _line: int, _message: str) -> None:
        return None

    starts: dict[tuple[str, str | None], list[int]] = {}
    for line, fields in iter_paragraphs(text, shown, _KEY_FIELDS, strict=False, warn=ignore):
        arch = fields.get("Architecture") or None
        key = (fields.get("Package", ""), native if arch in (None, "all") else arch)
        starts.setdefault(key, []).append(line)
    twice = {line: key for key, lines in starts.items() if len(lines) > 1 for line in lines}
    if not twice:
        return {}
    found: dict[tuple[str, str | None], list[Package]] = {}
    lenient = Diagnostics(strict=False)
    duplicates = DuplicateWarnings(diagnostics)
    for line, fields in iter_paragraphs(text, shown, WANTED, strict=False, warn=ignore):
        twin = twice.get(line)
        if twin is None:
            continue
        package = package_from_fields(fields, shown, line, Origin.STATUS, lenient)
        if package is None:
            continue
        copies = found.setdefault(twin, [])
        if copies:
            name, arch = twin
            shown_key = name if arch in (None, native) else f"{name}:{arch}"
            duplicates.add(shown_key, copies[0], package)
        copies.append(package)
    duplicates.close()
    return {key: tuple(copies) for key, copies in found.items() if len(copies) > 1}
