"""Per name:architecture records (issue 23): a duplicate status paragraph or ``dpkg -l`` row is a
warning naming the file and both records, every record is judged and the worst one counts; two
architectures of the library (``Multi-Arch: same``) are each judged.

The fixtures (``fixtures/duplicates``, built by its ``build.py``) are real trusty amd64 records:
libssl1.0.0 1.0.1f-1ubuntu1 (vulnerable) and 1.0.1f-1ubuntu2 (trusty's first fixed build). The
distroless layout (``var/lib/dpkg/status.d``, no status file) is read too.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from depgraph.diagnostics import Diagnostics
from depgraph.fixcheck import installed_packages
from depgraph.sources.dpkg_list import read_dpkg_list
from depgraph.sources.dpkg_status import read_status
from depgraph.universe import Universe
from tests.conftest import FIXTURES, oracle_apt_pkg, run_depgraph

HERE = FIXTURES / "duplicates"
TWICE = HERE / "status-twice"
MULTIARCH = HERE / "status-multiarch"
LISTING = HERE / "dpkg-l-multiarch.txt"
VULNERABLE = "1.0.1f-1ubuntu1"
FIXED = "1.0.1f-1ubuntu2"


def _library(report: dict[str, object]) -> list[tuple[str, str, str]]:
    items = report["library"]
    assert isinstance(items, list)
    return sorted((i["version"], i["architecture"], i["state"]) for i in items)


def _audit(*args: str | Path, pure: bool | None = None) -> tuple[int, dict[str, object], str]:
    done = run_depgraph("audit", *args, "--format", "json", pure=pure)
    return done.status, json.loads(done.stdout), done.stderr


def _backend(pure: bool) -> None:
    if not pure:
        oracle_apt_pkg()  # the python-apt path needs python-apt


def test_status_twice_judges_both_records_and_warns() -> None:
    status, report, stderr = _audit("--status", TWICE, "--release", "trusty")
    assert _library(report) == [
        (VULNERABLE, "amd64", "vulnerable"),
        (FIXED, "amd64", "fixed-backport"),
    ]
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["affected"] is True
    assert summary["highest_risk"] in ("critical", "high")
    assert status == 1  # --fail-on high
    warning = [line for line in stderr.splitlines() if "recorded again" in line]
    assert len(warning) == 1, stderr
    assert f"{TWICE.relative_to(HERE.parent.parent)}:142:" in warning[0]
    assert "line 127" in warning[0] and VULNERABLE in warning[0] and FIXED in warning[0]


@pytest.mark.parametrize("fixed_first", [False, True])
def test_the_worse_record_counts_whatever_the_order(tmp_path: Path, fixed_first: bool) -> None:
    """Vulnerable then fixed (the issue's case, the last record was judged alone) and fixed then
    vulnerable: both give the vulnerable verdict to the dependents."""
    paragraphs = TWICE.read_text().split("\n\n")
    if fixed_first:
        first, second = (i for i, p in enumerate(paragraphs) if p.startswith("Package: libssl"))
        paragraphs[first], paragraphs[second] = paragraphs[second], paragraphs[first]
    status = tmp_path / "status"
    status.write_text("\n\n".join(paragraphs))
    _code, report, _stderr = _audit("--status", status, "--release", "trusty")
    packages = {p["package"]: p for p in report["packages"]}  # type: ignore[union-attr]
    assert packages["openvpn"]["risk"]["level"] in ("critical", "high")


@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_root_with_a_duplicate_paragraph(pure: bool) -> None:
    """Through python-apt (which keeps one of the two records, silently) and the pure reader."""
    _backend(pure)
    status, report, stderr = _audit("--root", HERE / "root-twice", pure=pure)
    assert _library(report) == [
        (VULNERABLE, "amd64", "vulnerable"),
        (FIXED, "amd64", "fixed-backport"),
    ]
    assert report["summary"]["affected"] is True  # type: ignore[index]
    assert report["summary"]["highest_risk"] in ("critical", "high")  # type: ignore[index]
    assert status == 1
    warnings = [line for line in stderr.splitlines() if "recorded again" in line]
    assert len(warnings) == 1, stderr
    assert "root-twice/var/lib/dpkg/status:142:" in warnings[0]
    assert "line 127" in warnings[0] and VULNERABLE in warnings[0]


def test_dpkg_list_keeps_both_architectures() -> None:
    """``libssl1.0.0:amd64`` vulnerable and ``libssl1.0.0:i386`` fixed: the amd64 row was dropped."""
    status, report, stderr = _audit("--dpkg-list", LISTING, "--release", "trusty")
    assert _library(report) == [
        (VULNERABLE, "amd64", "vulnerable"),
        (FIXED, "i386", "fixed-backport"),
    ]
    assert report["summary"]["affected"] is True  # type: ignore[index]
    assert "recorded again" not in stderr  # two architectures are no duplicate
    assert status in (0, 1)


@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_two_architectures_under_a_root(tmp_path: Path, pure: bool) -> None:
    """The native amd64 copy vulnerable, the i386 one fixed: both judged, the amd64 dependents
    ranked by the vulnerable one (they link the native copy), no duplicate warning."""
    _backend(pure)
    shutil.copytree(HERE / "root-twice", tmp_path / "root")
    shutil.copyfile(MULTIARCH, tmp_path / "root/var/lib/dpkg/status")
    status, report, stderr = _audit("--root", tmp_path / "root", pure=pure)
    assert _library(report) == [
        (VULNERABLE, "amd64", "vulnerable"),
        (FIXED, "i386", "fixed-backport"),
    ]
    packages = {p["package"]: p for p in report["packages"]}  # type: ignore[union-attr]
    assert packages["openvpn"]["risk"]["level"] in ("critical", "high")
    assert "recorded again" not in stderr
    assert status == 1


def test_universe_keeps_every_record_of_a_key() -> None:
    diagnostics = Diagnostics()
    universe = Universe(status=read_status(TWICE, diagnostics), diagnostics=diagnostics)
    assert [p.version for p in universe.copies("libssl1.0.0")] == [VULNERABLE, FIXED]
    assert universe.copies("openssl") == ()
    assert [p.version for p in installed_packages(universe, "libssl1.0.0")] == [VULNERABLE, FIXED]
    assert len(diagnostics.warnings) == 1


def test_dpkg_list_native_architecture_from_its_rows() -> None:
    """Without a status file the native architecture comes from the listing (dpkg's own row), so
    that ``name:i386`` is a key of its own and not the native package's."""
    diagnostics = Diagnostics()
    universe = Universe(listed=read_dpkg_list(LISTING, diagnostics), diagnostics=diagnostics)
    assert universe.native_arch == "amd64"
    assert universe.lookup("libssl1.0.0").version == VULNERABLE  # type: ignore[union-attr]
    assert universe.lookup("libssl1.0.0:i386").version == FIXED  # type: ignore[union-attr]
    assert not diagnostics.warnings


DISTROLESS = HERE / "distroless"


@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_distroless_status_d_records(tmp_path: Path, pure: bool) -> None:
    """No status file, one record per package in ``status.d`` (no Status field) next to its
    ``.md5sums``: the packages are installed, the vulnerable library is found. python-apt does
    not read ``status.d``, so such a tree always takes the pure reader."""
    _backend(pure)
    root = tmp_path / "root"
    shutil.copytree(DISTROLESS, root)
    (root / "var/lib/dpkg/status.d/libssl1.0.0.md5sums").write_text(
        "0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.1.0.0\n"
    )
    status, report, stderr = _audit("--root", root, pure=pure)
    assert _library(report) == [(VULNERABLE, "amd64", "vulnerable")]
    assert report["summary"]["affected"] is True  # type: ignore[index]
    assert report["summary"]["highest_risk"] in ("critical", "high")  # type: ignore[index]
    assert status == 1, stderr


def test_status_d_fifo_is_skipped_not_read(tmp_path: Path) -> None:
    """A FIFO among the records would block a reader forever: it is warned about and skipped."""
    root = tmp_path / "root"
    shutil.copytree(DISTROLESS, root)
    os.mkfifo(root / "var/lib/dpkg/status.d/zz-fifo")
    status, report, stderr = _audit("--root", root, pure=True)
    assert "zz-fifo: not a regular file; skipped" in stderr
    assert report["summary"]["affected"] is True  # type: ignore[index]
    assert status == 1


@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_status_and_status_d_name_one_package_twice(tmp_path: Path, pure: bool) -> None:
    """A status file with the fixed libssl1.0.0 and a ``status.d`` record of the vulnerable one:
    one name:architecture twice, warned about, and the vulnerable record counts."""
    _backend(pure)
    root = tmp_path / "root"
    shutil.copytree(HERE / "root-twice", root)
    paragraphs = TWICE.read_text().split("\n\n")
    first = next(i for i, p in enumerate(paragraphs) if p.startswith("Package: libssl"))
    del paragraphs[first]  # the status file keeps the fixed record alone
    (root / "var/lib/dpkg/status").write_text("\n\n".join(paragraphs))
    (root / "var/lib/dpkg/status.d").mkdir()
    shutil.copyfile(
        DISTROLESS / "var/lib/dpkg/status.d/libssl1.0.0",
        root / "var/lib/dpkg/status.d/libssl1.0.0",
    )
    status, report, stderr = _audit("--root", root, pure=pure)
    assert _library(report) == [
        (VULNERABLE, "amd64", "vulnerable"),
        (FIXED, "amd64", "fixed-backport"),
    ]
    warnings = [line for line in stderr.splitlines() if "recorded again" in line]
    assert len(warnings) == 1 and "status.d/libssl1.0.0:1:" in warnings[0], stderr
    assert status == 1


def test_a_status_file_and_a_listing_of_one_host_agree(tmp_path: Path) -> None:
    """``--status`` and ``--dpkg-list`` of the same system name each package in both: no
    duplicate; a listing that disagrees on libssl1.0.0's version is one, and the worse counts."""
    diagnostics = Diagnostics()
    fixed_only = tmp_path / "status"
    paragraphs = TWICE.read_text().split("\n\n")  # amd64 fixed alone, the listing says vulnerable
    fixed_only.write_text("\n\n".join(p for p in paragraphs if VULNERABLE not in p))
    status = read_status(MULTIARCH, diagnostics)
    listed = read_dpkg_list(LISTING, diagnostics)
    Universe(status=status, listed=listed, diagnostics=diagnostics)
    assert not diagnostics.warnings
    universe = Universe(
        status=read_status(fixed_only, diagnostics), listed=listed, diagnostics=diagnostics
    )
    assert [w.message.split(" (")[0] for w in diagnostics.warnings] == [
        "libssl1.0.0 is recorded again"
    ]
    found = {(p.version, p.architecture) for p in installed_packages(universe, "libssl1.0.0")}
    assert found == {(FIXED, "amd64"), (VULNERABLE, "amd64"), (FIXED, "i386")}


def test_a_removed_architecture_does_not_hide_an_installed_one(tmp_path: Path) -> None:
    """dpkg's quick name -> state scan: libssl1.0.0:i386 removed (``rc``) before the installed
    amd64 record still leaves libssl1.0.0 on disk (the runtime scan and ``rc`` check use it)."""
    from depgraph.runtime.library import installed_in_status
    from depgraph.sources.dpkg_status import dpkg_states

    root = tmp_path / "root"
    (root / "var/lib/dpkg").mkdir(parents=True)
    paragraphs = MULTIARCH.read_text().split("\n\n")
    i386 = next(i for i, p in enumerate(paragraphs) if "Architecture: i386" in p)
    removed = paragraphs.pop(i386).replace("install ok installed", "deinstall ok config-files")
    paragraphs.insert(0, removed)
    (root / "var/lib/dpkg/status").write_text("\n\n".join(paragraphs))
    assert dpkg_states(root)["libssl1.0.0"] == "installed"
    assert "libssl1.0.0" in installed_in_status(root)


@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_a_status_file_repeated_whole_warns_in_a_few_lines(tmp_path: Path, pure: bool) -> None:
    """Every record twice (a status file concatenated with itself): ten warnings and one line
    counting the rest, not one line per package."""
    _backend(pure)
    root = tmp_path / "root"
    shutil.copytree(HERE / "root-twice", root)
    text = (root / "var/lib/dpkg/status").read_text()
    (root / "var/lib/dpkg/status").write_text(text + "\n" + text)
    _status, report, stderr = _audit("--root", root, pure=pure)
    again = [line for line in stderr.splitlines() if "recorded again" in line]
    rest = [line for line in stderr.splitlines() if "more records repeat" in line]
    assert len(again) == 10 and len(rest) == 1, stderr
    assert ": 3 more records" in rest[0]  # 11 packages in 12 records, doubled: 13 again
    assert report["summary"]["affected"] is True  # type: ignore[index]


def _snapshot(path: Path, root: Path) -> None:
    """A snapshot tarball of ``root`` as ``depgraph collect`` lays it out (the tree and its
    manifest), written with the standard tarfile module."""
    manifest = {
        "format": "depgraph-snapshot/1",
        "host": "trusty-duplicates",
        "time": "2014-04-08T12:00:00+00:00",
        "kernel": "Linux",
        "collector": "test",
        "libraries": ["libssl1.0.0"],
        "captured": ["dpkg-status"],
        "missing": [],
    }
    with tarfile.open(path, "w:gz") as tar:
        for file in sorted(root.rglob("*")):
            if file.is_file():
                tar.add(file, arcname=str(file.relative_to(root)))
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("depgraph-snapshot/manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("tree", ["root-twice", "distroless"])
@pytest.mark.parametrize("pure", [True, False], ids=["pure-python", "python-apt"])
def test_snapshot_of_the_trees_audits_like_the_trees(tmp_path: Path, tree: str, pure: bool) -> None:
    """The duplicate paragraph and the status.d records survive a snapshot: the same verdicts and
    the same duplicate warning as the tree given with --root."""
    _backend(pure)
    snapshot = tmp_path / "host.tar.gz"
    _snapshot(snapshot, HERE / tree)
    status, report, stderr = _audit("--snapshot", snapshot, pure=pure)
    _direct_status, direct, _stderr = _audit("--root", HERE / tree, pure=pure)
    assert _library(report) == _library(direct)
    assert (VULNERABLE, "amd64", "vulnerable") in _library(report)
    assert report["summary"]["highest_risk"] in ("critical", "high")  # type: ignore[index]
    assert ("recorded again" in stderr) == (tree == "root-twice"), stderr
    assert status == 1
