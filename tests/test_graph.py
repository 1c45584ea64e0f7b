"""The reverse-dependency graph on real data: fixtures, this machine, a debootstrap'ed tree.

The oracle is apt itself: ``apt-cache rdepends --installed --recurse`` restricted to Depends and
Pre-Depends. depgraph must find every package apt-cache finds, and the only extras allowed are the
ones apt-cache cannot see: those reached through a virtual package (Provides) or an ``:any``
qualifier.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from depgraph.diagnostics import Diagnostics
from depgraph.graph import reverse_closure, to_networkx
from depgraph.load import SourceOptions, open_index
from depgraph.model import DependencyGraph
from tests.conftest import (
    REPO,
    SCHEMAS,
    SHARED,
    flag,
    require_tool,
    run_depgraph,
    scenario,
    status_files,
)

SAME = [
    "--no-recommends",
    "--no-suggests",
    "--no-conflicts",
    "--no-breaks",
    "--no-replaces",
    "--no-enhances",
]
DEBOOTSTRAP = REPO / "build" / "debootstrap-bookworm"


def apt_cache_closure(target: str, status: Path | None = None, arch: str | None = None) -> set[str]:
    """Names ``apt-cache rdepends --installed --recurse`` prints, optionally on a saved status."""
    apt_cache = require_tool("apt-cache")
    options: list[str] = []
    if status is not None:
        empty = Path(__file__).parent / "data" / "empty-apt"
        options = [
            f"-oDir::State::status={status.resolve()}",
            f"-oDir::Etc::sourcelist={empty / 'sources.list'}",
            f"-oDir::Etc::sourceparts={empty}",
            f"-oDir::State::lists={empty}",
        ]
        if arch:
            options += [f"-oAPT::Architecture={arch}", f"-oAPT::Architectures::={arch}"]
    out = subprocess.run(
        [apt_cache, *options, "rdepends", "--installed", "--recurse", *SAME, target],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.strip().lstrip("|") for line in out.splitlines() if line.startswith(" ")}


def graph_json(*args: str | Path, pure: bool | None = None) -> dict[str, object]:
    run = run_depgraph("graph", *args, "--format", "json", pure=pure)
    assert run.status == 0, run.stderr
    document: dict[str, object] = json.loads(run.stdout)
    return document


def nodes(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {n["package"]: n for n in document["nodes"]}  # type: ignore[attr-defined,index]


def explained_extra(document: dict[str, object], package: str) -> bool:
    """A dependent apt-cache cannot see: reached through a virtual package or an ``:any``."""
    real = nodes(document)
    path = real[package]["path"]
    assert isinstance(path, list)
    if any(hop not in real for hop in path):
        return True
    relations = [e["relation"] for e in document["edges"] if e["from"] in path]  # type: ignore[attr-defined,index]
    return any(":any" in r for r in relations)


def check_against_apt_cache(document: dict[str, object], expected: set[str]) -> None:
    found = set(nodes(document)) - set(document["targets"])  # type: ignore[arg-type]
    assert expected - found == set(), "depgraph misses packages apt-cache finds"
    for extra in found - expected:
        assert explained_extra(document, extra), f"{extra} is neither in apt-cache nor via Provides"


@pytest.mark.parametrize("status", status_files(), ids=lambda p: p.parts[-5])
def test_fixture_closure_matches_apt_cache(status: Path) -> None:
    text = status.read_text(encoding="utf-8", errors="replace")
    if not re.search(r"^Package: libssl1\.0\.0\nStatus: install ok installed", text, re.M):
        run = run_depgraph("graph", "libssl1.0.0", "--status", status)
        assert run.status == 2 and "no installed package called libssl1.0.0" in run.stderr
        return
    arch = re.search(r"^Package: dpkg\n(?:.+\n)*?Architecture: (\S+)", text, re.M)
    document = graph_json("libssl1.0.0", "--status", status)
    expected = apt_cache_closure("libssl1.0.0", status, arch.group(1) if arch else None)
    assert expected, "the oracle found nothing; the comparison would be empty"
    check_against_apt_cache(document, expected)


def test_live_closure_matches_apt_cache() -> None:
    document = graph_json("libssl3")
    check_against_apt_cache(document, apt_cache_closure("libssl3"))


def test_curl_reaches_libssl3_via_libcurl4() -> None:
    document = graph_json("libssl3")
    if "curl" not in nodes(document):
        if flag("CI"):
            pytest.fail("curl is not installed; .ci/run installs it for this test")
        pytest.skip("curl is not installed")
    curl = nodes(document)["curl"]
    assert curl["path"] == ["curl", "libcurl4", "libssl3"]
    assert (curl["depth"], curl["via"], curl["direct"]) == (2, ["libcurl4"], False)


def test_provides_is_followed_base_files_via_awk() -> None:
    """base-files Pre-Depends on awk, which mawk Provides; apt-cache rdepends mawk misses it."""
    document = graph_json("mawk")
    assert "base-files" not in apt_cache_closure("mawk")
    base_files = nodes(document)["base-files"]
    assert base_files["path"] == ["base-files", "awk", "mawk"]
    assert base_files["depth"] == 1
    edges = {(e["from"], e["to"], e["kind"]) for e in document["edges"]}  # type: ignore[attr-defined]
    assert ("base-files", "awk", "Pre-Depends") in edges
    assert ("awk", "mawk", "Provides") in edges


ROLE_FIELDS = ("role", "component", "confidence", "role_missing", "role_evidence")


def _comparable(document: dict[str, object]) -> dict[str, object]:
    """The graph itself: warnings (they cite backend-specific places) and roles (they depend on
    which files are at hand, see test_classify) left out."""
    result = {key: value for key, value in document.items() if key != "warnings"}
    result["nodes"] = [
        {k: v for k, v in node.items() if k not in ROLE_FIELDS}
        for node in document["nodes"]  # type: ignore[attr-defined]
    ]
    return result


def test_backends_agree_on_this_machine() -> None:
    oracle = graph_json("libssl3", pure=False)
    assert _comparable(graph_json("libssl3", pure=True)) == _comparable(oracle)
    assert _comparable(graph_json("libssl3", "--pure")) == _comparable(oracle)


def test_backends_agree_on_roles() -> None:
    def roles(document: dict[str, object]) -> dict[str, tuple[object, object]]:
        return {n["package"]: (n.get("role"), n.get("component")) for n in document["nodes"]}  # type: ignore[attr-defined]

    assert roles(graph_json("libssl3", pure=True)) == roles(graph_json("libssl3", pure=False))


def test_backends_agree_on_the_whole_archive() -> None:
    apt = graph_json("libssl3", "--all", pure=False)
    pure = graph_json("libssl3", "--all", pure=True)
    assert len(apt["nodes"]) > 1000  # type: ignore[arg-type]
    assert {(n["package"], n["depth"]) for n in pure["nodes"]} == {  # type: ignore[attr-defined]
        (n["package"], n["depth"])
        for n in apt["nodes"]  # type: ignore[attr-defined]
    }
    assert _comparable(pure) == _comparable(apt)


def test_root_copy_and_saved_status_equal_live(live_root_copy: Path) -> None:
    live = _comparable(graph_json("libssl3"))
    assert _comparable(graph_json("libssl3", "--root", live_root_copy, pure=False)) == live
    assert _comparable(graph_json("libssl3", "--root", live_root_copy, pure=True)) == live
    status = live_root_copy / "var/lib/dpkg/status"
    assert _comparable(graph_json("libssl3", "--status", status)) == live


def test_debootstrap_tree() -> None:
    """A real debootstrap'ed bookworm (``make debootstrap``): liblzma5, the CVE-2024-3094 library."""
    if not (DEBOOTSTRAP / "var/lib/dpkg/status").is_file():
        if flag("DEPGRAPH_REQUIRE_DEBOOTSTRAP"):
            pytest.fail(f"{DEBOOTSTRAP} is missing; run `make debootstrap` as root")
        pytest.skip("no debootstrap tree; `make debootstrap` builds one (root, network)")
    apt = graph_json("liblzma5", "--root", DEBOOTSTRAP, pure=False)
    assert _comparable(graph_json("liblzma5", "--root", DEBOOTSTRAP, pure=True)) == _comparable(apt)
    status = DEBOOTSTRAP / "var/lib/dpkg/status"
    assert _comparable(graph_json("liblzma5", "--status", status)) == _comparable(apt)
    check_against_apt_cache(apt, apt_cache_closure("liblzma5", status))
    everything = graph_json("liblzma5", "--root", DEBOOTSTRAP, "--all", pure=False)
    assert _comparable(graph_json("liblzma5", "--root", DEBOOTSTRAP, "--all", pure=True)) == (
        _comparable(everything)
    )
    assert len(everything["nodes"]) > len(apt["nodes"])  # type: ignore[arg-type]


def test_json_validates_against_the_contract_schema() -> None:
    schema = json.loads((SCHEMAS / "graph-v1.schema.json").read_text())
    contract = SHARED / "contract" / "graph-v1.schema.json"
    if contract.is_file():
        assert json.loads(contract.read_text()) == schema, "the bundled schema drifted"
    for args in (["libssl3"], ["mawk"], ["libssl1.0.0", "--status", status_files()[0]]):
        document = graph_json(*args)
        jsonschema.validate(document, schema)


def _graph(target: str, **options: object) -> DependencyGraph:
    index = open_index(SourceOptions(**options), Diagnostics())  # type: ignore[arg-type]
    return reverse_closure(index, [target])


@pytest.mark.parametrize(
    ("target", "options"),
    [
        ("libssl3", {}),
        ("libc6", {}),
        ("libssl1.0.0", {"status": scenario("debian-7.0-i386") / "var/lib/dpkg/status"}),
    ],
)
def test_paths_are_real_and_shortest(target: str, options: dict[str, object]) -> None:
    """Every path follows recorded edges, depth counts its relationships, and BFS is optimal."""
    graph = _graph(target, **options)
    edges = {(e.dependent, e.target) for e in graph.edges}
    depth = {n.package: n.depth for n in graph.nodes}
    for node in graph.nodes:
        assert node.path[0] == node.package and node.path[-1] in graph.targets
        assert all(hop in edges for hop in zip(node.path, node.path[1:], strict=False))
        real_hops = [hop for hop in node.path[1:] if hop in depth]
        assert node.depth == len(real_hops)
    for edge in graph.edges:
        if edge.dependent in depth and edge.target in depth:
            assert depth[edge.dependent] <= depth[edge.target] + 1
    networkx_graph = to_networkx(graph)
    assert set(depth) <= set(networkx_graph.nodes)


def test_cycle_libc6_libgcc_s1() -> None:
    """libc6 Depends on libgcc-s1, which Depends on libc6: each appears once, the walk ends."""
    graph = _graph("libgcc-s1")
    names = [n.package for n in graph.nodes]
    assert names.count("libc6") == 1 and names.count("libgcc-s1") == 1
    assert ("libgcc-s1", "libc6") in {(e.dependent, e.target) for e in graph.edges}


def test_depth_limit() -> None:
    full = _graph("libssl3")
    index = open_index(SourceOptions(), Diagnostics())
    limited = reverse_closure(index, ["libssl3"], max_depth=1)
    assert {n.package for n in limited.nodes} == {n.package for n in full.nodes if n.depth <= 1}
    assert max(n.depth for n in full.nodes) > 1


def test_or_group_is_recorded_as_alternative() -> None:
    """libssl1.0.0 Depends on ``debconf (>= 0.5) | debconf-2.0`` (Ubuntu 12.04.3 status)."""
    graph = _graph("debconf", status=scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status")
    edge = next(e for e in graph.edges if e.dependent == "libssl1.0.0")
    assert (edge.kind, edge.alternative, edge.relation) == ("Depends", True, "debconf (>= 0.5)")


def test_unsatisfied_versioned_dependency_is_kept(tmp_path: Path) -> None:
    """A dependent whose versioned Depends the installed library does not meet stays, flagged."""
    original = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
    text = original.read_text()
    paragraph = re.search(r"^Package: libssl1\.0\.0\n(?:.+\n)*", text, re.M)
    assert paragraph is not None
    older = paragraph.group(0).replace("Version: 1.0.1-4ubuntu5.10", "Version: 1.0.0-1")
    status = tmp_path / "status"
    status.write_text(text.replace(paragraph.group(0), older))
    run = run_depgraph("graph", "libssl1.0.0", "--status", status, "--format", "json")
    assert run.status == 0
    document = json.loads(run.stdout)
    openssl = [e for e in document["edges"] if e["from"] == "openssl" and e["to"] == "libssl1.0.0"]
    assert [e["satisfied"] for e in openssl] == [False]
    assert "openssl" in nodes(document)
    assert any("not satisfied" in w["message"] for w in document["warnings"])
    assert "not satisfied" in run.stderr


def test_rdepends_output_as_a_source() -> None:
    path = next((REPO / "fixtures/heartbleed/rdepends").glob("trusty-*"))
    document = graph_json("libssl1.0.0", "--rdepends", path)
    dependents = [n for n in document["nodes"] if n["depth"] == 1]  # type: ignore[attr-defined]
    assert len(dependents) == 96
    assert document["installed_only"] is False


def test_dpkg_list_with_indexes_equals_status(tmp_path: Path) -> None:
    """An analyst's saved ``dpkg -l`` plus the release's Packages indexes gives the status answer."""
    status = scenario("ubuntu-14.04-core-armhf") / "var/lib/dpkg/status"
    admindir = tmp_path / "dpkg"
    (admindir / "info").mkdir(parents=True)
    (admindir / "updates").mkdir()
    shutil.copy(status, admindir / "status")
    listing = subprocess.run(
        ["dpkg", f"--admindir={admindir}", "-l"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "80", "DPKG_PAGER": "cat", "PATH": "/usr/bin:/bin"},
    ).stdout
    saved = tmp_path / "dpkg-l.txt"
    saved.write_text(listing)
    from_status = {n["package"] for n in graph_json("python3", "--status", status)["nodes"]}  # type: ignore[attr-defined]
    run = run_depgraph("graph", "python3", "--dpkg-list", saved, "--format", "names")
    assert run.status == 0 and run.stdout == ""
    assert "dpkg -l lists no relationships" in run.stderr
    assert len(from_status) > 3


def test_virtual_and_unknown_targets_are_usage_errors() -> None:
    run = run_depgraph("graph", "awk")
    assert run.status == 2 and "virtual package provided by" in run.stderr and "mawk" in run.stderr
    run = run_depgraph("graph", "no-such-package-xyz")
    assert run.status == 2 and run.stderr.count("\n") == 1 and run.stdout == ""


def test_walk_without_edges_has_the_same_nodes_and_warnings() -> None:
    """``--format names`` and ``tree`` skip edges; nothing else about the walk may change."""
    index = open_index(SourceOptions(), Diagnostics())
    full = reverse_closure(index, ["libssl3"])
    lean = reverse_closure(index, ["libssl3"], with_edges=False)
    assert lean.nodes == full.nodes and lean.warnings == full.warnings
    assert lean.edges == () and len(full.edges) > len(full.nodes)
