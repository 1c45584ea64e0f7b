"""The ELF facts cache: a second run reads no ELF file, a changed file is read again, a corrupt
cache is ignored."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from depgraph.elf_cache import ElfCache

SONAMES = frozenset({"libssl.so.3", "libcrypto.so.3"})


@pytest.fixture
def binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copies = []
    for name in ("openssl", "ssh", "true"):
        found = shutil.which(name)
        if found is None:
            continue
        copy = tmp_path / name
        shutil.copy2(Path(found).resolve(), copy)
        copies.append(copy)
    assert len(copies) >= 2
    return copies


def scan(paths: list[Path], root: Path) -> tuple[ElfCache, list[object]]:
    cache = ElfCache(root)
    facts = [cache.read(p, symbols_if_needs=SONAMES) for p in paths]
    cache.save()
    return cache, facts


def test_second_run_reads_no_elf_file(binaries: list[Path], tmp_path: Path) -> None:
    first, facts = scan(binaries, tmp_path)
    assert (first.reads, first.hits) == (len(binaries), 0)
    second, again = scan(binaries, tmp_path)
    assert (second.reads, second.hits) == (0, len(binaries))
    assert again == facts


def test_changed_file_is_read_again(binaries: list[Path], tmp_path: Path) -> None:
    scan(binaries, tmp_path)
    os.utime(binaries[0], ns=(10**18, 10**18))
    cache, _ = scan(binaries, tmp_path)
    assert (cache.reads, cache.hits) == (1, len(binaries) - 1)


def test_other_sonames_are_read_again(binaries: list[Path], tmp_path: Path) -> None:
    scan(binaries, tmp_path)
    cache = ElfCache(tmp_path)
    cache.read(binaries[0], symbols_if_needs=frozenset({"liblzma.so.5"}))
    assert cache.reads == 1


def test_corrupt_cache_is_ignored(binaries: list[Path], tmp_path: Path) -> None:
    scan(binaries, tmp_path)
    [stored] = (tmp_path / "cache" / "depgraph" / "elf").glob("*.pickle")
    stored.write_bytes(b"garbage")
    cache, facts = scan(binaries, tmp_path)
    assert cache.reads == len(binaries) and all(f is not None for f in facts)
    assert ElfCache(tmp_path)._entries, "the cache was rewritten"


def test_classifying_twice_reads_no_elf_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole classification of this machine's libssl3 dependents, run twice: the second run
    takes every ELF fact from the cache (no entry evicts another)."""
    from depgraph.classify import Classifier, target_library
    from depgraph.diagnostics import Diagnostics
    from depgraph.graph import reverse_closure
    from depgraph.load import SourceOptions, open_index
    from depgraph.package_files import RootFiles

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index = open_index(SourceOptions(), Diagnostics())
    graph = reverse_closure(index, ["libssl3"])
    counts = []
    for _run in range(2):
        cache = ElfCache(Path("/"))
        files = RootFiles(Path("/"), cache)
        library = index.lookup("libssl3")
        assert library is not None
        Classifier(index, files, {"libssl3": target_library(files, library)}).classify(graph)
        cache.save()
        counts.append((cache.reads, cache.hits))
    assert counts[0][0] > 50
    assert counts[1] == (0, counts[0][0] + counts[0][1])


def test_unreadable_library_files_make_roles_unknown(tmp_path: Path) -> None:
    """A library whose .list exists but whose .so files are gone cannot say who links it."""
    from depgraph.classify import target_library
    from depgraph.model import Origin, Package
    from depgraph.package_files import RootFiles

    root = tmp_path / "root"
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (info / "libssl3:amd64.list").write_text("/usr/lib/x86_64-linux-gnu/libssl.so.3\n")
    package = Package("libssl3", "3.0", "amd64", "installed", Origin.STATUS, "test")
    assert target_library(RootFiles(root), package) is None
