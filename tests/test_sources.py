"""Every real input in fixtures/ loads, and each reader agrees with the real tools on it."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from depgraph.diagnostics import Diagnostics
from depgraph.model import OrGroup, RelationKind
from depgraph.sources.dpkg_list import read_dpkg_list
from depgraph.sources.dpkg_status import read_status
from depgraph.sources.packages_index import lists_under, read_packages
from depgraph.sources.rdepends_text import read_rdepends
from tests.conftest import HEARTBLEED, oracle_apt_pkg, require_tool, run_depgraph, status_files


def _paragraph_count(text: str) -> int:
    return len(re.findall(r"^Package:", text, re.MULTILINE))


@pytest.mark.parametrize("path", status_files(), ids=lambda p: p.parts[-5])
def test_every_real_status_file_loads(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    packages = read_status(path, Diagnostics())
    assert len(packages) == _paragraph_count(text)
    installed = len(re.findall(r"^Status: \S+ \S+ installed$", text, re.MULTILINE))
    assert sum(p.installed for p in packages) >= installed
    assert all(p.version for p in packages if p.installed)


def test_status_fields_of_a_known_package() -> None:
    path = HEARTBLEED / "ubuntu-12.04.3-armhf/root/var/lib/dpkg/status"
    by_name = {p.name: p for p in read_status(path, Diagnostics())}
    libssl = by_name["libssl1.0.0"]
    assert (libssl.version, libssl.architecture, libssl.state, libssl.want) == (
        "1.0.1-4ubuntu5.10",
        "armhf",
        "installed",
        "install",
    )
    assert libssl.multi_arch == "same"
    assert libssl.where.startswith(f"{path}:")
    line = int(libssl.where.rsplit(":", 1)[1])
    assert path.read_text().splitlines()[line - 1] == "Package: libssl1.0.0"


INDEXES = sorted(HEARTBLEED.glob("indexes/*/*Packages.gz"))


@pytest.mark.parametrize("path", INDEXES, ids=lambda p: p.name)
def test_every_real_packages_index_loads(path: Path) -> None:
    text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    assert len(read_packages(path, Diagnostics())) == _paragraph_count(text)


def test_trusty_libssl_versions() -> None:
    versions = {
        path.name.split("_dists_")[1].split("_")[0]: {
            p.version for p in read_packages(path, Diagnostics()) if p.name == "libssl1.0.0"
        }
        for path in INDEXES
        if "trusty" in path.name
    }
    assert versions == {
        "trusty": {"1.0.1f-1ubuntu2"},
        "trusty-updates": {"1.0.1f-1ubuntu2.27"},
        "trusty-security": {"1.0.1f-1ubuntu2.27"},
    }


@pytest.mark.parametrize(
    ("name", "compress"),
    [("xz", lzma.compress), ("bz2", bz2.compress), ("plain", lambda data: data)],
)
def test_other_compressions(tmp_path: Path, name: str, compress: object) -> None:
    source = HEARTBLEED / "indexes/precise-armhf-2014-03"
    real = next(source.glob("*precise-security_main*"))
    data = gzip.decompress(real.read_bytes())
    target = tmp_path / f"Packages.{name}"
    target.write_bytes(compress(data))  # type: ignore[operator]
    assert len(read_packages(target, Diagnostics())) == _paragraph_count(data.decode())


def test_this_machines_lz4_lists() -> None:
    lz4 = require_tool("lz4")
    lists = [p for p in lists_under(Path("/")) if p.name.endswith(".lz4")]
    if not lists:
        pytest.skip("apt keeps no lz4 lists on this machine")
    for path in lists:
        text = subprocess.run([lz4, "-dc", str(path)], capture_output=True, check=True).stdout
        assert len(read_packages(path, Diagnostics())) == _paragraph_count(text.decode())


@pytest.mark.parametrize(
    ("name", "count"),
    [("trusty-main-amd64", 96), ("precise-security-main+universe-armhf-2014-03", 43)],
)
def test_rdepends_outputs(name: str, count: int) -> None:
    path = next(HEARTBLEED.glob(f"rdepends/{name}_*"))
    lines = read_rdepends(path, Diagnostics())
    assert {line.target for line in lines} == {"libssl1.0.0"}
    assert len({line.dependent for line in lines}) == count


RDEPENDS = Path(__file__).parent.parent / "fixtures/apt-cache-rdepends"
BOOKWORM = RDEPENDS / "bookworm-amd64_apt-cache-rdepends-libssl3.txt"
BOOKWORM_KINDS = RDEPENDS / "bookworm-amd64_apt-cache-rdepends-kinds-libssl3.txt"
BOOKWORM_RECURSE = RDEPENDS / "bookworm-amd64_apt-cache-rdepends-recurse-libssl3_two-levels.txt"
ZYNQ_LIST = Path(__file__).parent.parent / "fixtures/audit/dpkg-list-only/dpkg-l.txt"
ZYNQ_RECURSE = ZYNQ_LIST.parent / "apt-cache-rdepends-recurse.txt"


def _kinds_of(path: Path) -> dict[str, str]:
    """dependent -> the kind word apt printed in front of it (read with str.split, not the reader)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines()[2:]:
        kind, name = line.strip().lstrip("|").split(": ")
        found.setdefault(name.split(" ")[0], kind)
    return found


def test_rdepends_kinds_are_read_as_apt_printed_them() -> None:
    """apt's ShowDependencyType output: Recommends and Suggests are not Depends, and the
    constraint on libssl3 is kept."""
    lines = read_rdepends(BOOKWORM_KINDS, Diagnostics())
    printed = _kinds_of(BOOKWORM_KINDS)
    assert len({line.dependent for line in lines}) == len(printed)
    words = {"PreDepends": "Pre-Depends"}
    for line in lines:
        assert line.kind is not None
        assert line.kind.value == words.get(printed[line.dependent], printed[line.dependent])
    (collectd,) = [line for line in lines if line.dependent == "collectd"]
    assert (collectd.kind, collectd.operator, collectd.version) == (
        RelationKind.RECOMMENDS,
        ">=",
        "3.0.0",
    )


def test_rdepends_line_forms_of_apt_show_depends(tmp_path: Path) -> None:
    """The forms apt's ShowDepends writes that this machine's lists do not happen to hold: an
    alternative before the kind, a foreign architecture, a virtual name in angle brackets."""
    saved = tmp_path / "rdepends.txt"
    saved.write_text(
        "libssl3\nReverse Depends:\n |Depends: libfoo:i386 (>= 3.0.0)\n  PreDepends: <virt>\n"
        "  Breaks: libold (<< 3.0.2)\n"
    )
    lines = read_rdepends(saved, Diagnostics())
    assert [(x.dependent, x.alternative, x.kind, x.version) for x in lines] == [
        ("libfoo", True, RelationKind.DEPENDS, "3.0.0"),
        ("virt", False, RelationKind.PRE_DEPENDS, None),
        ("libold", False, RelationKind.BREAKS, "3.0.2"),
    ]


def _graph_names(*args: str | Path) -> tuple[list[str], str]:
    run = run_depgraph("graph", *args, "--format", "names")
    assert run.status == 0, run.stderr
    return run.stdout.splitlines(), run.stderr


def test_rdepends_recommends_are_followed_only_when_asked() -> None:
    """issue 21, 6: collectd Recommends libssl3, collectd-core Suggests it."""
    names, _ = _graph_names("libssl3", "--rdepends", BOOKWORM_KINDS)
    assert "collectd" not in names and "collectd-core" not in names
    assert "openssl" in names
    names, _ = _graph_names("libssl3", "--rdepends", BOOKWORM_KINDS, "--recommends")
    assert "collectd" in names and "collectd-core" not in names
    names, _ = _graph_names("libssl3", "--rdepends", BOOKWORM_KINDS, "--suggests")
    assert "collectd-core" in names


def test_plain_rdepends_says_it_cannot_tell_kinds_nor_levels() -> None:
    """The plain output cannot say collectd only Recommends libssl3: it is kept, and the warning
    says so; and with one block only direct dependents are known."""
    names, stderr = _graph_names("libssl3", "--rdepends", BOOKWORM)
    assert "collectd" in names
    assert "printed no relationship kinds" in stderr and "ShowDependencyType" in stderr
    assert "only the direct dependents of libssl3 are known" in stderr


def test_recursive_rdepends_gives_a_multi_level_graph() -> None:
    run = run_depgraph("graph", "libssl3", "--rdepends", BOOKWORM_RECURSE, "--format", "json")
    assert run.status == 0, run.stderr
    depths = {n["package"]: n["depth"] for n in json.loads(run.stdout)["nodes"]}
    assert max(depths.values()) == 2
    assert depths["openssl"] == 1 and depths["ca-certificates"] == 2  # Depends: openssl
    assert "only the direct dependents" not in run.stderr


def test_a_dpkg_list_with_the_hosts_recursive_rdepends_finds_all_its_dependents() -> None:
    """issue 21, 6: the zynq host's dpkg -l and its apt-cache rdepends --recurse find the same
    dependents as its status file; the single-level output of the -security pocket finds 3 and
    says that only direct dependents are known."""
    status = HEARTBLEED / "ubuntu-12.04-armhf-zynq/root/var/lib/dpkg/status"
    expected, _ = _graph_names("libssl1.0.0", "--status", status)
    found, _ = _graph_names("libssl1.0.0", "--dpkg-list", ZYNQ_LIST, "--rdepends", ZYNQ_RECURSE)
    assert sorted(found) == sorted(expected) and len(expected) == 26
    security = next(HEARTBLEED.glob("rdepends/precise-security-*"))
    found, stderr = _graph_names("libssl1.0.0", "--dpkg-list", ZYNQ_LIST, "--rdepends", security)
    assert sorted(found) == ["libcurl3", "libssl-dev", "openssl"]
    assert "only the direct dependents of libssl1.0.0 are known" in stderr


def _dpkg_list(admindir: Path | None, columns: int) -> str:
    require_tool("dpkg")
    args = ["dpkg", "-l"] if admindir is None else ["dpkg", f"--admindir={admindir}", "-l"]
    env = {**os.environ, "COLUMNS": str(columns), "DPKG_PAGER": "cat", "PAGER": "cat"}
    return subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout


def _fake_admindir(tmp_path: Path, status: Path) -> Path:
    admindir = tmp_path / "dpkg"
    (admindir / "info").mkdir(parents=True)
    (admindir / "updates").mkdir()
    shutil.copy(status, admindir / "status")
    return admindir


@pytest.mark.parametrize("columns", [80, 132, 250])
def test_dpkg_list_of_this_machine(tmp_path: Path, columns: int) -> None:
    saved = tmp_path / "dpkg-l.txt"
    saved.write_text(_dpkg_list(None, columns))
    listed = read_dpkg_list(saved, Diagnostics())
    status = read_status(Path("/var/lib/dpkg/status"), Diagnostics())
    expected = {(p.name, p.version, p.state) for p in status if p.state != "not-installed"}
    assert {(e.package.name, e.package.version, e.package.state) for e in listed} == expected


@pytest.mark.parametrize("status", status_files(), ids=lambda p: p.parts[-5])
def test_dpkg_list_of_a_chroot(tmp_path: Path, status: Path) -> None:
    """``dpkg --admindir`` lists an old system's database with today's dpkg, as from a chroot."""
    saved = tmp_path / "dpkg-l.txt"
    saved.write_text(_dpkg_list(_fake_admindir(tmp_path, status), 80))
    listed = read_dpkg_list(saved, Diagnostics())
    from_status = read_status(status, Diagnostics())
    expected = {(p.name, p.version, p.state) for p in from_status if p.state != "not-installed"}
    assert {(e.package.name, e.package.version, e.package.state) for e in listed} == expected


def test_old_dpkg_list_format() -> None:
    """dpkg before 1.16.2: no Architecture column, ``<none>`` for unknown versions, 'pn' rows."""
    path = HEARTBLEED.parent / "dpkg-list/dpkg-1.15-nano-excerpt.txt"
    listed = read_dpkg_list(path, Diagnostics())
    rows = [(e.package.name, e.package.version, e.package.state, e.package.want) for e in listed]
    assert rows == [
        ("nano", "1.3.10-2", "installed", "install"),
        ("nano-tiny", None, "not-installed", "purge"),
    ]


def test_descriptions_from_status_and_dpkg_list(tmp_path: Path) -> None:
    """The synopsis (Policy 5.6.13) from the status file equals what ``dpkg -l`` shows at a width
    where dpkg does not cut it."""
    status = read_status(Path("/var/lib/dpkg/status"), Diagnostics())
    by_name = {p.name: p for p in status if p.state == "installed"}
    assert by_name["dpkg"].description == "Debian package management system"
    saved = tmp_path / "dpkg-l.txt"
    saved.write_text(_dpkg_list(None, 400))
    listed = {e.package.name: e.package for e in read_dpkg_list(saved, Diagnostics())}
    assert listed["dpkg"].description == by_name["dpkg"].description
    same = sum(listed[name].description == package.description for name, package in by_name.items())
    assert same >= 0.98 * len(by_name)


def test_details_of_python_apt_equal_the_pure_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-apt serves relations and the synopsis on demand (``details``); the pure reader has
    them from the status file: the same for every installed package of this machine. The oracle
    runs in the pure pass too, so the backend switch is lifted for this test alone."""
    oracle_apt_pkg()
    from depgraph.debian import backend
    from depgraph.sources.apt_cache import AptIndex

    monkeypatch.delenv("DEPGRAPH_NO_APT", raising=False)
    backend.apt_pkg.cache_clear()
    try:
        apt = AptIndex(Path("/"), installed_only=True)
    finally:
        monkeypatch.undo()
        backend.apt_pkg.cache_clear()
    from depgraph.universe import Universe

    status = read_status(Path("/var/lib/dpkg/status"), Diagnostics())
    pure = Universe(status=status, installed_only=True)
    names = [p.name for p in status if p.state == "installed"]
    assert len(names) > 100
    for name in names:
        ours, theirs = apt.details(name), pure.details(name)
        assert ours is not None and theirs is not None, name
        assert ours.description == theirs.description, name
        for kind in (RelationKind.PRE_DEPENDS, RelationKind.DEPENDS):
            assert _names(ours.groups(kind)) == _names(theirs.groups(kind)), (name, kind)


def _names(groups: tuple[OrGroup, ...]) -> list[list[tuple[str, str | None, str | None]]]:
    return [[(r.name, r.operator, r.version) for r in group] for group in groups]


def test_a_root_without_a_record_of_dpkg_takes_its_most_common_architecture(
    tmp_path: Path,
) -> None:
    """A trimmed status file (no ``dpkg`` record) of an armhf root on this amd64 machine: both
    readers take armhf, the architecture of most records, as the native one, so ``libssl1.0.0``
    (``Multi-Arch: same``) is found as on the whole tree. python-apt's reader fell back to this
    machine's architecture and found no such package (found by the fleet bench's trimmed hosts)."""
    whole = HEARTBLEED / "raspbian-wheezy" / "root"
    root = tmp_path / "root"
    shutil.copytree(whole, root)
    status = root / "var/lib/dpkg/status"
    paragraphs = status.read_text().split("\n\n")
    kept = [p for p in paragraphs if not p.startswith("Package: dpkg\n")]
    assert len(kept) == len(paragraphs) - 1
    status.write_text("\n\n".join(kept))

    def dependents(tree: Path) -> dict[str, str]:
        done = run_depgraph("graph", "libssl1.0.0", "--root", tree, "--format", "json")
        assert done.status == 0, done.stderr
        return {node["package"]: node["version"] for node in json.loads(done.stdout)["nodes"]}

    found = dependents(root)
    assert len(found) > 5 and found == dependents(whole)
