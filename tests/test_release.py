"""Which release a tree is (issue 4: "the release is found from the root's etc/os-release /
etc/lsb-release / etc/debian_version (including a symlinked os-release) and can be given with
--release"), on the real files of the Heartbleed fixtures and of this machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from depgraph.diagnostics import Diagnostics
from depgraph.errors import UsageError
from depgraph.release import detect_release, parse_release, read_key_values
from tests.conftest import scenario


@pytest.mark.parametrize(
    ("name", "distribution", "codename", "version"),
    [
        ("debian-7.0-i386", "debian", "wheezy", "7.0"),
        ("debian-8.7-jessie-mixed", "debian", "jessie", "8"),
        ("debian-jessie-armel", "debian", "jessie", "8"),
        ("debian-wheezy-prerelease-powerpc", "debian", "wheezy", None),
        ("raspbian-wheezy", "raspbian", "wheezy", "7"),
        ("ubuntu-12.04-armhf-zynq", "ubuntu", "precise", "12.04"),
        ("ubuntu-12.04.3-armhf", "ubuntu", "precise", "12.04"),
        ("ubuntu-14.04-core-armhf", "ubuntu", "trusty", "14.04"),
    ],
)
def test_fixture_releases(name: str, distribution: str, codename: str, version: str | None) -> None:
    release = detect_release(scenario(name))
    assert release is not None
    assert (release.distribution, release.codename, release.version) == (
        distribution,
        codename,
        version,
    )
    assert release.evidence and all(Path(e.path or "").is_file() for e in release.evidence)


def test_raspbian_looks_up_debian_too() -> None:
    release = detect_release(scenario("raspbian-wheezy"))
    assert release is not None
    assert release.candidates() == (("raspbian", "wheezy"), ("debian", "wheezy"))


def test_symlinked_os_release_is_followed_inside_the_tree() -> None:
    root = scenario("debian-8.7-jessie-mixed")
    assert (root / "etc/os-release").is_symlink()
    release = detect_release(root)
    assert release is not None
    first = release.evidence[0]
    assert "a symlink to usr/lib/os-release" in first.detail
    assert Path(first.path or "") == (root / "usr/lib/os-release").resolve()


def test_absolute_symlink_does_not_read_the_hosts_os_release(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "usr/lib").mkdir(parents=True)
    shutil.copy(scenario("debian-8.7-jessie-mixed") / "usr/lib/os-release", root / "usr/lib")
    (root / "etc/os-release").symlink_to("/usr/lib/os-release")  # absolute: the tree's own /usr
    release = detect_release(root)
    assert release is not None and release.codename == "jessie"


def test_no_release_file_is_a_note_not_an_error() -> None:
    diagnostics = Diagnostics()
    assert detect_release(scenario("ubuntu-9.04-armel"), diagnostics) is None
    assert "--release" in diagnostics.warnings[0].message


def test_this_machine() -> None:
    values = read_key_values(Path("/etc/os-release").read_text())
    release = detect_release(Path("/"))
    assert release is not None
    assert release.distribution == values["ID"]
    if "VERSION_CODENAME" in values:
        assert release.codename == values["VERSION_CODENAME"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wheezy", ("debian", "wheezy")),
        ("debian/wheezy", ("debian", "wheezy")),
        ("debian/7", ("debian", "wheezy")),
        ("ubuntu:trusty", ("ubuntu", "trusty")),
        ("ubuntu/14.04", ("ubuntu", "trusty")),
        ("Trusty", ("ubuntu", "trusty")),
        ("sid", ("debian", "sid")),
    ],
)
def test_release_option(text: str, expected: tuple[str, str]) -> None:
    release = parse_release(text)
    assert (release.distribution, release.codename) == expected


@pytest.mark.parametrize("text", ["", "narnia", "a/b/c"])
def test_bad_release_option(text: str) -> None:
    with pytest.raises(UsageError):
        parse_release(text)
