"""depgraph's caches: in the user's cache directory only, keyed by file identity, never fatal."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from depgraph.diagnostics import Diagnostics
from depgraph.model import Package
from depgraph.sources import parsed_cache
from depgraph.sources.packages_index import read_packages
from tests.conftest import HEARTBLEED, oracle_apt_pkg, run_depgraph

INDEX = next(HEARTBLEED.glob("indexes/trusty-amd64/*trusty_main_*Packages.gz"))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def entries(home: Path) -> list[Path]:
    return sorted((home / "depgraph" / "parsed").glob("*.pickle"))


def test_second_read_comes_from_the_cache(cache_home: Path, tmp_path: Path) -> None:
    index = tmp_path / INDEX.name
    shutil.copy2(INDEX, index)
    first = read_packages(index, Diagnostics())
    [entry] = entries(cache_home)
    entry.write_bytes(pickle.dumps(first[:1]))  # proves the next read is served from the entry
    assert read_packages(index, Diagnostics()) == first[:1]
    index.write_bytes(b"")  # same path, size changed: the old entry must not be used
    os.utime(index, ns=(1, 1))
    with pytest.raises(Exception, match="empty file"):
        read_packages(index, Diagnostics())
    shutil.copy(INDEX, index)  # a new modification time: parsed again, not the doctored entry
    again = read_packages(index, Diagnostics())
    assert again == first and len(again) > 8000


def test_entry_is_keyed_by_identity(cache_home: Path, tmp_path: Path) -> None:
    index = tmp_path / INDEX.name
    shutil.copy2(INDEX, index)
    read_packages(index, Diagnostics())
    os.utime(index, ns=(10**18, 10**18))
    read_packages(index, Diagnostics())
    assert len(entries(cache_home)) == 2


def test_corrupt_entry_is_ignored_and_rewritten(cache_home: Path) -> None:
    first = read_packages(INDEX, Diagnostics())
    [entry] = entries(cache_home)
    entry.write_bytes(b"\x80\x05not a pickle at all")
    assert read_packages(INDEX, Diagnostics()) == first
    assert entry.read_bytes()[:2] == b"\x80\x05" and len(entry.read_bytes()) > 1000


def test_small_files_and_warnings_are_not_cached(cache_home: Path, tmp_path: Path) -> None:
    small = next(HEARTBLEED.glob("indexes/precise-armhf-2014-03/*restricted*"))
    read_packages(small, Diagnostics())
    assert entries(cache_home) == []
    import gzip

    text = gzip.decompress(INDEX.read_bytes())
    broken = tmp_path / "Packages"
    broken.write_bytes(text.replace(b"\nVersion: ", b"\nnot a field line\nVersion: ", 1))
    assert broken.stat().st_size > parsed_cache.MIN_SIZE
    diagnostics = Diagnostics(strict=False)
    read_packages(broken, diagnostics)
    assert diagnostics.warnings and entries(cache_home) == []


def test_unusable_cache_directory_is_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert len(read_packages(INDEX, Diagnostics())) > 8000


def test_apt_binary_cache_goes_to_the_user_cache(cache_home: Path) -> None:
    """libapt as root would rewrite /var/cache/apt/pkgcache.bin; depgraph points it elsewhere."""
    oracle_apt_pkg()
    system = Path("/var/cache/apt")
    before = {p.name: p.stat().st_mtime_ns for p in system.glob("*.bin")}
    run = run_depgraph("graph", "libssl3", "--all", "--format", "names", pure=False)
    assert run.status == 0, run.stderr
    assert {p.name: p.stat().st_mtime_ns for p in system.glob("*.bin")} == before
    kept = list((cache_home / "depgraph" / "apt").glob("*/pkgcache.bin"))
    assert len(kept) == 1 and kept[0].stat().st_size > 1_000_000
    again = run_depgraph("graph", "libssl3", "--all", "--format", "names", pure=False)
    assert again.stdout == run.stdout


def test_universe_counts_the_newest_version_of_a_removed_package() -> None:
    """``--all``: a package removed but not purged (``rc``) counts at its newest available version."""
    from depgraph.debian.deb822 import iter_paragraphs
    from depgraph.model import Origin
    from depgraph.sources.control import WANTED, package_from_fields
    from depgraph.universe import Universe

    text = (HEARTBLEED / "debian-7.0-i386/root/var/lib/dpkg/status").read_text(errors="replace")
    start = text.index("Package: openssl\n")
    paragraph = text[start : text.index("\n\n", start)] + "\n"
    removed = paragraph.replace("Status: install ok installed", "Status: deinstall ok config-files")
    newer = removed.replace("Version: 1.0.1e-1\n", "Version: 1.0.1e-2\n")
    assert newer != removed

    def packages(block: str, origin: Origin) -> list[Package]:
        fields = [f for _, f in iter_paragraphs(block, "t", WANTED, strict=True, warn=print)]
        found = [package_from_fields(f, "t", 1, origin, Diagnostics()) for f in fields]
        return [p for p in found if p is not None]

    universe = Universe(
        status=packages(removed, Origin.STATUS),
        available=packages(newer, Origin.PACKAGES),
        installed_only=False,
    )
    chosen = universe.lookup("openssl")
    assert chosen is not None and chosen.version == "1.0.1e-2" and not chosen.installed
