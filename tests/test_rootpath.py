"""Reading an audited tree never follows its symlinks out of it."""

from __future__ import annotations

import os
from pathlib import Path

from depgraph.model import Origin, Package
from depgraph.package_files import RootFiles
from depgraph.rootpath import resolve_in_root


def test_absolute_and_dotdot_links_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr").mkdir(parents=True)
    (root / "usr/lib").mkdir()
    os.symlink("/opt/bin", root / "usr/bin")  # meant for the tree's own /opt/bin
    os.symlink("usr/lib", root / "lib")
    os.symlink("../../../../..", root / "usr/lib/up")
    assert resolve_in_root(root, "/usr/bin/openssl") == root.resolve() / "opt/bin/openssl"
    assert resolve_in_root(root, "/lib/x") == root.resolve() / "usr/lib/x"
    assert resolve_in_root(root, "/usr/lib/up/etc/passwd") == root.resolve() / "etc/passwd"
    assert resolve_in_root(root, "/../../etc/shadow") == root.resolve() / "etc/shadow"
    os.symlink("loop", root / "loop")
    assert resolve_in_root(root, "/loop/x") is None
    os.symlink("/self", root / "self")  # inside the tree, /self -> /self is a loop too
    assert resolve_in_root(root, "/self/x") is None


def test_a_package_in_a_hostile_root_reads_no_host_binary(tmp_path: Path) -> None:
    """A tree whose usr/bin points at the host's /usr/bin: its openssl is not the host's."""
    root = tmp_path / "root"
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (root / "usr").mkdir()
    os.symlink("/usr/bin", root / "usr/bin")
    (info / "foo.list").write_text("/usr\n/usr/bin\n/usr/bin/openssl\n")
    package = Package("foo", "1.0", None, "installed", Origin.STATUS, "test")
    files = RootFiles(root)
    assert files.files(package) == ["/usr", "/usr/bin", "/usr/bin/openssl"]
    assert files.elves(package, frozenset()) == []


def test_status_behind_an_escaping_link_is_not_the_hosts(tmp_path: Path) -> None:
    """A tree whose var is a link to the host's /var: depgraph reads no host status file."""
    from tests.conftest import run_depgraph

    root = tmp_path / "root"
    root.mkdir()
    os.symlink("/var", root / "var")  # inside the tree: var -> /var, a loop
    for pure in (True, False):
        run = run_depgraph("graph", "libssl3", "--root", root, pure=pure)
        assert run.status == 2 and "symlink loop" in run.stderr and run.stdout == ""
