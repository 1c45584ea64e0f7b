"""apt's ``Packages`` indexes (Debian Policy 5.3; the archive's ``dists/*/binary-*/Packages``).

These describe what is *available*, not what is installed. apt stores them under
``/var/lib/apt/lists`` as ``*_Packages`` followed by the compression suffix its configuration chose
(``.lz4`` here, ``.gz``, ``.xz``, ``.bz2`` elsewhere, or none).
"""

from __future__ import annotations

from pathlib import Path

from depgraph.diagnostics import Diagnostics
from depgraph.model import Origin, Package
from depgraph.rootpath import under_root
from depgraph.sources.control import read_control_file
from depgraph.sources.parsed_cache import cached

LISTS_PATH = Path("var/lib/apt/lists")
_SUFFIXES = ("", ".gz", ".xz", ".lz4", ".bz2")


def read_packages(path: Path, diagnostics: Diagnostics, option: str | None = None) -> list[Package]:
    """All package paragraphs of one index (from the parsed-index cache when it is current);
    ``option`` (``--packages``) names where the path came from, in errors."""

    def parse() -> tuple[list[Package], bool]:
        before = len(diagnostics.warnings)
        packages = list(read_control_file(path, Origin.PACKAGES, diagnostics, option))
        return packages, len(diagnostics.warnings) == before

    return cached(path, parse)


def lists_under(root: Path) -> list[Path]:
    """The Packages indexes apt has downloaded under ``root``, in a stable order."""
    directory = under_root(root, str(LISTS_PATH))
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        name = path.name
        for suffix in _SUFFIXES:
            if name.endswith("_Packages" + suffix) and path.is_file():
                found.append(path)
                break
    return sorted(found)


def lists_naming(root: Path, name: str, diagnostics: Diagnostics) -> tuple[Path | None, bool]:
    """The first of apt's lists under ``root`` with a paragraph for package ``name``, found by a
    byte search for its ``Package:`` line (no parse: this only asks whether apt knows the name),
    and whether every list could be read (an unreadable one is warned about)."""
    from depgraph.errors import DepgraphError
    from depgraph.sources.files import Kind, read_bytes

    line = f"Package: {name}\n".encode()
    complete = True
    for path in lists_under(root):
        try:
            data = read_bytes(path, Kind.PACKAGES)
        except DepgraphError as error:
            diagnostics.warn(str(path), 0, f"not searched for {name}: {error}")
            complete = False
            continue
        if data.startswith(line):
            return path, complete
        start = data.find(b"\n" + line)
        if start >= 0:
            return path, complete
    return None, complete
