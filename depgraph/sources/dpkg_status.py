"""dpkg's status database, ``/var/lib/dpkg/status`` (dpkg(1), deb822(5)).

Every paragraph is a package dpkg knows of, with its ``Status: want flag state``; packages in
``not-installed`` are kept (they matter for ``rc`` history) but never count as installed.
"""

from __future__ import annotations

from pathlib import Path

from depgraph.diagnostics import Diagnostics
from depgraph.model import Origin, Package
from depgraph.rootpath import under_root
from depgraph.sources.control import read_control_file

STATUS_PATH = Path("var/lib/dpkg/status")


def read_status(path: Path, diagnostics: Diagnostics) -> list[Package]:
    """All packages of a saved or live dpkg status file."""
    return list(read_control_file(path, Origin.STATUS, diagnostics))


def status_under(root: Path) -> Path:
    """Where dpkg keeps its status file under ``root``."""
    return under_root(root, str(STATUS_PATH))
