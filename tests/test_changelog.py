"""Debian changelogs and ``depgraph changelog`` (issue 4, "depgraph changelog — for package
maintainers", and "Malformed changelogs").

Every changelog here is real: the libssl1.0.0 ``changelog.Debian.gz`` of the Heartbleed fixtures, the
full Debian and Ubuntu source changelogs in ``shared/data/heartbleed/01`` and ``02``, and this
machine's ``/usr/share/doc/libssl3``. Malformed inputs are copies of a real changelog damaged in
``tmp_path``; the expected line numbers are counted in the undamaged file.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from depgraph.debian.changelog import normalise_cve, parse_changelog, read_changelog
from depgraph.debian.upstream_changes import branch, debian_form, read_upstream_changes
from depgraph.debian.versions import compare
from depgraph.diagnostics import Diagnostics
from depgraph.fixcheck import changelog_finding, without_vendor_tag
from tests.conftest import HEARTBLEED_DATA, run_depgraph, scenario

DATA = HEARTBLEED_DATA
DEBIAN_SOURCE = DATA / "01-debian-openssl-changelog-from-bookworm-source" / "debian-changelog"
TRUSTY_SOURCE = DATA / "02-ubuntu-trusty-openssl-changelog" / "changelog"
LIBSSL3 = Path("/usr/share/doc/libssl3")
HEADING = re.compile(r"^[a-z0-9][a-z0-9+.-]* \([^ ()]+\) ", re.M)


def doc(name: str) -> Path:
    return scenario(name) / "usr/share/doc/libssl1.0.0/changelog.Debian.gz"


def read(path: Path) -> tuple[object, Diagnostics]:
    diagnostics = Diagnostics()
    return read_changelog(path, diagnostics), diagnostics


def need_libssl3() -> None:
    if not (LIBSSL3 / "changelog.Debian.gz").is_file():
        pytest.skip("libssl3 is not installed on this machine")


FIXTURES = [
    "debian-7.0-i386",
    "debian-8.7-jessie-mixed",
    "debian-jessie-armel",
    "debian-wheezy-prerelease-powerpc",
    "raspbian-wheezy",
    "ubuntu-12.04-armhf-zynq",
    "ubuntu-12.04.3-armhf",
    "ubuntu-14.04-core-armhf",
]


@pytest.mark.parametrize("name", FIXTURES)
def test_every_real_changelog_parses_cleanly(name: str) -> None:
    diagnostics = Diagnostics()
    changelog = read_changelog(doc(name), diagnostics)
    assert changelog is not None
    text = gzip.decompress(doc(name).read_bytes()).decode("utf-8", "replace")
    assert len(changelog.entries) == len(HEADING.findall(text))
    assert diagnostics.warnings == []
    lines = text.splitlines()
    for entry in changelog.entries:
        assert lines[entry.line - 1] == entry.heading
        assert entry.when is not None, entry.version
    trimmed = "For older changelog entries" in text
    assert (changelog.trimmed_at is not None) is trimmed
    if trimmed:
        assert changelog.trimmed_at == len(lines)


def test_the_wheezy_security_chain_in_raspbians_changelog() -> None:
    changelog = read_changelog(doc("raspbian-wheezy"), Diagnostics())
    assert changelog is not None
    (deb7u5,) = [e for e in changelog.entries if e.version == "1.0.1e-2+deb7u5"]
    assert (deb7u5.line, deb7u5.distributions, deb7u5.urgency) == (72, "wheezy-security", "high")
    assert deb7u5.maintainer == "Salvatore Bonaccorso <carnil@debian.org>"
    assert deb7u5.date == "Mon, 07 Apr 2014 22:26:55 +0200"
    assert deb7u5.mentions("CVE-2014-0160") == (75, 76)
    assert deb7u5.trailer_line == 81
    versions = [e.version for e in changelog.entries]
    assert versions.index("1.0.1e-2+deb7u4") == versions.index("1.0.1e-2+deb7u5") + 1


@pytest.mark.parametrize(
    ("installed", "fixed_in"),
    [
        ("1.0.1e-2+deb7u4", None),
        ("1.0.1e-2+deb7u5", "1.0.1e-2+deb7u5"),
        ("1.0.1e-2+deb7u5+b1", "1.0.1e-2+deb7u5"),  # binNMU
        ("1.0.1e-2+deb7u11", "1.0.1e-2+deb7u5"),  # deb7u11 after deb7u5, not before
        ("1.0.1e-2+rvt+deb7u11", "1.0.1e-2+deb7u5"),  # Raspbian's vendor infix
        ("1.0.1e-2+deb7u5~bpo60+1", None),  # a backport of deb7u5 sorts below it
        (None, "1.0.1e-2+deb7u5"),
    ],
)
def test_the_fix_is_in_when_its_entry_is_at_or_below_the_installed_version(
    installed: str | None, fixed_in: str | None
) -> None:
    changelog = read_changelog(doc("raspbian-wheezy"), Diagnostics())
    assert changelog is not None
    finding = changelog_finding(changelog, "CVE-2014-0160", installed)
    assert (finding.entry.version if finding.entry else None) == fixed_in


def test_vendor_tag_would_mislead_a_plain_comparison() -> None:
    assert compare("1.0.1e-2+rvt+deb7u4", "1.0.1e-2+deb7u5") > 0  # why the tag is set aside
    assert compare(without_vendor_tag("1.0.1e-2+rvt+deb7u4"), "1.0.1e-2+deb7u5") < 0
    assert without_vendor_tag("1.0.1e-2+rvt+deb7u11") == "1.0.1e-2+deb7u11"


def test_source_changelogs_01_and_02() -> None:
    debian = read_changelog(DEBIAN_SOURCE, Diagnostics())
    assert debian is not None and debian.complete
    assert [e.version for e in debian.mentioning("CVE-2014-0160")] == ["1.0.2~beta2-1"]
    assert not [e for e in debian.entries if e.version.startswith("1.0.1g")]
    trusty = read_changelog(TRUSTY_SOURCE, Diagnostics())
    assert trusty is not None
    assert trusty.entries[0].version == "1.0.1f-1ubuntu2.15"
    finding = changelog_finding(trusty, "CVE-2014-0160", None)
    assert finding.entry is not None and finding.entry.version == "1.0.1f-1ubuntu2"
    assert finding.entry.date == "Mon, 07 Apr 2014 15:37:53 -0400"


def test_cve_identifiers() -> None:
    assert normalise_cve(" cve-2014-0160 ") == "CVE-2014-0160"
    assert normalise_cve("CVE-2024-13176") == "CVE-2024-13176"
    for bad in ("CVE-14-0160", "2014-0160", "CVE-2014-016"):
        with pytest.raises(ValueError):
            normalise_cve(bad)


# --- malformed changelogs -------------------------------------------------------------------

RASPBIAN_LINES = gzip.decompress(doc("raspbian-wheezy").read_bytes()).split(b"\n")
TRAILER = 80  # index of deb7u5's trailer line (file line 81)


def damaged(tmp_path: Path, lines: list[bytes], name: str = "changelog.Debian.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"\n".join(lines)))
    return path


def replace_line(index: int, old: bytes, new: bytes) -> list[bytes]:
    lines = list(RASPBIAN_LINES)
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new)
    return lines


CASES = {
    "no trailer": (
        RASPBIAN_LINES[:TRAILER] + RASPBIAN_LINES[TRAILER + 1 :],
        80,
        "no trailer line",
        "1.0.1e-2+deb7u5",
    ),
    "bad date": (
        replace_line(TRAILER, b"07 Apr 2014", b"37 Apr 2014"),
        81,
        "bad date 'Mon, 37 Apr 2014",
        "1.0.1e-2+deb7u5",
    ),
    "bad month": (
        replace_line(TRAILER, b"07 Apr 2014", b"07 Foo 2014"),
        81,
        "bad date",
        "1.0.1e-2+deb7u5",
    ),
    "bad trailer": (
        replace_line(TRAILER, b">  Mon", b"> Mon"),
        81,
        "malformed trailer line",
        "1.0.1e-2+deb7u5",
    ),
    "bad version": (
        replace_line(71, b"(1.0.1e-2+deb7u5)", b"(1.0.1e-2+deb7u5!)"),
        72,
        "bad version '1.0.1e-2+deb7u5!'; entry skipped",
        "1.0.1e-2+deb7u7",  # the next mention: the damaged entry is not used
    ),
    "latin-1": (
        replace_line(TRAILER, b"Bonaccorso", "Bonaccorsø".encode("latin-1")),
        81,
        "not UTF-8; read as Latin-1",
        "1.0.1e-2+deb7u5",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_changelog_is_a_warning_with_file_and_line(case: str, tmp_path: Path) -> None:
    lines, line, message, fixed_in = CASES[case]
    path = damaged(tmp_path, lines)
    diagnostics = Diagnostics()
    changelog = read_changelog(path, diagnostics)
    assert changelog is not None
    wheres = [(w.where, w.message) for w in diagnostics.warnings]
    assert any(where == f"{path}:{line}" and message in text for where, text in wheres), wheres
    finding = changelog_finding(changelog, "CVE-2014-0160", "1.0.1e-2+rvt+deb7u11")
    assert finding.entry is not None and finding.entry.version == fixed_in
    assert len(changelog.entries) >= 158  # the rest of the file is still read


def test_a_bad_trailer_does_not_merge_two_entries(tmp_path: Path) -> None:
    lines, *_ = CASES["bad trailer"]
    changelog = read_changelog(damaged(tmp_path, lines), Diagnostics())
    assert changelog is not None
    (deb7u5,) = [e for e in changelog.entries if e.version == "1.0.1e-2+deb7u5"]
    assert deb7u5.maintainer == "Salvatore Bonaccorso <carnil@debian.org>"
    assert [e.version for e in changelog.entries].count("1.0.1e-2+deb7u4") == 1


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    raw = doc("raspbian-wheezy").read_bytes()
    path = tmp_path / "changelog.Debian.gz"
    path.write_bytes(raw[: len(raw) // 2])
    diagnostics = Diagnostics()
    changelog = read_changelog(path, diagnostics)
    assert changelog is not None and changelog.truncated and not changelog.complete
    assert any(
        "truncated gzip" in w.message and w.where.startswith(f"{path}:")
        for w in diagnostics.warnings
    )
    assert changelog_finding(changelog, "CVE-2014-0160", None).entry is not None
    assert 0 < len(changelog.entries) < 159


def test_gzip_bomb_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "changelog.Debian.gz"
    path.write_bytes(gzip.compress(b"\n" * (20 << 20) + b"".join(RASPBIAN_LINES), 9))
    assert path.stat().st_size < 1 << 20
    diagnostics = Diagnostics()
    assert read_changelog(path, diagnostics) is None
    assert "gzip bomb" in diagnostics.warnings[0].message
    assert diagnostics.warnings[0].where == str(path)


def test_empty_and_not_a_changelog(tmp_path: Path) -> None:
    diagnostics = Diagnostics()
    changelog = parse_changelog(["hello", "world"], "x", diagnostics)
    assert changelog.entries == ()
    assert "no changelog entry" in diagnostics.warnings[0].message


# --- upstream CHANGES -------------------------------------------------------------------------


def test_openssl_upstream_changes_on_this_machine() -> None:
    need_libssl3()
    changes = read_upstream_changes(LIBSSL3 / "changelog.gz", Diagnostics())
    assert changes is not None
    headings = [s.version for s in changes.naming("CVE-2014-0160")]
    assert "1.0.1g" in headings and len(headings) >= 2  # listed again under a merged branch
    fix = changes.fixed_in("CVE-2014-0160", "3.0.22")
    assert fix is not None and (fix.version, fix.included) == ("1.0.1g", True)
    text = gzip.decompress((LIBSSL3 / "changelog.gz").read_bytes()).decode().splitlines()
    assert "Changes between 1.0.1f and 1.0.1g" in text[fix.section.line - 1]
    assert "CVE-2014-0160" in text[fix.mention_line - 1]
    on_branch = changes.fixed_in("CVE-2014-0160", "1.0.1e")
    assert on_branch is not None and (on_branch.version, on_branch.included) == ("1.0.1g", False)
    assert changes.fixed_in("CVE-2099-0001", "3.0.22") is None


def test_openssl_branches() -> None:
    assert branch("1.0.1g") == "1.0.1"
    assert branch("3.0.22") == "3.0"
    assert debian_form("1.0.2-beta1") == "1.0.2~beta1"
    assert compare(debian_form("1.0.2-beta1"), "1.0.2") < 0


# --- the command ------------------------------------------------------------------------------


def first_line_naming(path: Path, cve: str) -> tuple[int, int]:
    """Independently of depgraph: the oldest line naming ``cve`` and the entry heading above it."""
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    mention = max(n for n, text in enumerate(lines, 1) if cve in text)  # oldest = last in the file
    heading = max(n for n, text in enumerate(lines[:mention], 1) if HEADING.match(text))
    return heading, mention


def test_command_answers_from_libssl3s_changelog() -> None:
    need_libssl3()
    path = LIBSSL3 / "changelog.Debian.gz"
    heading, mention = first_line_naming(path, "CVE-2022-3602")
    done = run_depgraph("changelog", "libssl3", "--cve", "CVE-2022-3602")
    assert done.status == 0, done.stderr
    assert "CVE-2022-3602 fixed in 3.0.7-1" in done.stdout
    assert f"{path}, line {mention}" in done.stdout
    assert f"{heading:>7} | openssl (3.0.7-1) unstable; urgency=medium" in done.stdout
    assert "distribution: unstable" in done.stdout
    assert "date:         Tue, 01 Nov 2022 21:39:01 +0100" in done.stdout
    assert "maintainer:   Sebastian Andrzej Siewior" in done.stdout
    document = json.loads(
        run_depgraph("changelog", "libssl3", "--cve", "CVE-2022-3602", "--format", "json").stdout
    )
    assert document["schema"] == "depgraph/changelog/v1"
    assert document["answer"] == "fixed"
    assert document["entry"]["version"] == "3.0.7-1"
    assert document["entry"]["lines"] == [mention]
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "libssl3"], capture_output=True, text=True, check=True
    ).stdout
    assert document["version"] == version


def test_command_falls_back_to_the_upstream_changelog() -> None:
    need_libssl3()
    done = run_depgraph("changelog", "libssl3", "--cve", "CVE-2014-0160")
    assert done.status == 0, done.stderr
    assert "not named in the Debian changelog" in done.stdout
    assert "trimmed at 1.1.1d-1" in done.stdout
    assert "CVE-2014-0160 fixed upstream in 1.0.1g" in done.stdout
    assert "Changes between 1.0.1f and 1.0.1g [7 Apr 2014]" in done.stdout


def test_command_says_when_neither_names_the_cve() -> None:
    need_libssl3()
    done = run_depgraph("changelog", "libssl3", "--cve", "CVE-2014-9999")
    assert done.status == 1
    assert "named in neither" in done.stdout


def test_command_on_a_changelog_file_and_a_source_tree(tmp_path: Path) -> None:
    done = run_depgraph("changelog", "--file", doc("debian-jessie-armel"), "--cve", "CVE-2014-0160")
    assert done.status == 0
    assert "CVE-2014-0160 fixed in 1.0.1g-1" in done.stdout
    assert "Mon, 07 Apr 2014 23:17:42 +0200" in done.stdout
    tree = tmp_path / "openssl-1.0.1f"
    (tree / "debian").mkdir(parents=True)
    shutil.copy(TRUSTY_SOURCE, tree / "debian" / "changelog")
    done = run_depgraph("changelog", "--file", tree, "--cve", "CVE-2014-0160", "--format", "json")
    document = json.loads(done.stdout)
    assert document["entry"]["version"] == "1.0.1f-1ubuntu2"
    assert document["entry"]["distribution"] == "trusty"
    assert document["entry"]["maintainer"] == "Marc Deslauriers <marc.deslauriers@ubuntu.com>"


def test_command_in_a_root_follows_the_symlinked_changelog() -> None:
    root = scenario("ubuntu-12.04-armhf-zynq")
    done = run_depgraph("changelog", "openssl", "--root", root, "--cve", "CVE-2014-0160")
    assert done.status == 1  # 1.0.1-4ubuntu3: never updated, and the changelog is trimmed
    assert "symlink to libssl1.0.0's changelog" in done.stdout
    assert "trimmed at 1.0.1-2" in done.stdout
    done = run_depgraph(
        "changelog", "libssl1.0.0", "--root", scenario("raspbian-wheezy"), "--cve", "CVE-2014-0160"
    )
    assert done.status == 0
    assert "fixed in 1.0.1e-2+deb7u5 (the installed 1.0.1e-2+rvt+deb7u11 has it)" in done.stdout
    assert "       75 |   * Add CVE-2014-0160.patch patch." in done.stdout


def since(version: str) -> set[tuple[str, str]]:
    done = run_depgraph(
        "changelog", "--file", doc("raspbian-wheezy"), "--since", version, "--format", "json"
    )
    assert done.status == 0
    return {(row["cve"], row["version"]) for row in json.loads(done.stdout)["fixed"]}


def test_command_since_lists_later_cves() -> None:
    after_u4 = since("1.0.1e-2+deb7u4")
    assert ("CVE-2014-0160", "1.0.1e-2+deb7u5") in after_u4
    assert ("CVE-2010-5298", "1.0.1e-2+deb7u7") in after_u4
    assert all(compare(version, "1.0.1e-2+deb7u4") > 0 for _, version in after_u4)
    after_u5 = since("1.0.1e-2+deb7u5")
    assert after_u5 == {row for row in after_u4 if row[1] != "1.0.1e-2+deb7u5"}
    text = run_depgraph("changelog", "--file", doc("raspbian-wheezy"), "--since", "1.0.1e-2+deb7u4")
    assert text.stdout.splitlines()[0].endswith(f"after 1.0.1e-2+deb7u4 ({doc('raspbian-wheezy')})")


def test_command_all_in_a_root(tmp_path: Path) -> None:
    done = run_depgraph(
        "changelog", "--all", "--root", scenario("raspbian-wheezy"), "--cve", "CVE-2014-0160"
    )
    assert done.status == 0
    (row,) = done.stdout.splitlines()
    assert row.split()[:5] == [
        "libssl1.0.0",
        "1.0.1e-2+rvt+deb7u11",
        "fixed",
        "in",
        "1.0.1e-2+deb7u5",
    ]
    assert "has the fix" in row and row.endswith("changelog.Debian.gz:75")
    done = run_depgraph(
        "changelog", "--all", "--root", scenario("raspbian-wheezy"), "--cve", "CVE-2099-0001"
    )
    assert done.status == 1


def test_command_all_on_this_machine_agrees_with_zgrep() -> None:
    need_libssl3()
    files = sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz"))
    zgrep = subprocess.run(
        ["zgrep", "-l", "CVE-2023-0286", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    expected = {Path(line).parent.name for line in zgrep.stdout.splitlines()}
    done = run_depgraph("changelog", "--all", "--cve", "CVE-2023-0286", "--format", "json")
    found = {row["package"] for row in json.loads(done.stdout)["packages"]}
    assert expected and expected <= found
    # a CVE id that is the start of a longer one names nothing by itself
    named = set(
        subprocess.run(
            ["zgrep", "-ohE", r"CVE-[0-9]{4}-[0-9]{4,}", *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
    )
    alone = sorted({cve[:-1] for cve in named if len(cve) > len("CVE-2023-0286")} - named)
    if alone:
        done = run_depgraph("changelog", "--all", "--cve", alone[0], "--format", "json")
        assert done.status == 1 and json.loads(done.stdout)["packages"] == [], alone[0]


def test_command_warns_about_a_damaged_changelog_and_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(scenario("raspbian-wheezy"), root, symlinks=True)
    lines, line, _, _ = CASES["no trailer"]
    path = root / "usr/share/doc/libssl1.0.0/changelog.Debian.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines)))
    done = run_depgraph("changelog", "libssl1.0.0", "--root", root, "--cve", "CVE-2014-0160")
    assert done.status == 0
    assert f"warning: {path.resolve()}:{line}: entry has no trailer line" in done.stderr
    assert "fixed in 1.0.1e-2+deb7u5" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--file", "/nonexistent/changelog", "--cve", "CVE-2014-0160"), "no such file"),
        (("libssl3", "--cve", "2014-0160"), "--cve"),
        (("--file", str(DEBIAN_SOURCE), "--since", "not a version!"), "--since"),
        (("no-such-package-xyz", "--cve", "CVE-2014-0160"), "not installed"),
        (("--all", "--since", "1.0"), "--all needs --cve"),
    ],
)
def test_command_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    done = run_depgraph("changelog", *args)
    assert done.status == 2
    assert message in done.stderr and done.stderr.count("\n") == 1


def test_command_on_the_pure_path() -> None:
    done = run_depgraph(
        "changelog",
        "libssl1.0.0",
        "--root",
        scenario("debian-jessie-armel"),
        "--cve",
        "CVE-2014-0160",
        pure=True,
    )
    assert done.status == 0
    assert "fixed in 1.0.1g-1 (the installed 1.0.1t-1+deb8u6 has it)" in done.stdout


def test_binnmu_changelog_of_this_machine() -> None:
    """A binNMU (``+b1``) installs its entry as ``changelog.Debian.ARCH.gz`` (Policy 12.7)."""
    from depgraph.fixcheck import read_package_docs

    found = sorted(Path("/usr/share/doc").glob("*/changelog.Debian.*.gz"))
    found = [p for p in found if "+b" in gzip.decompress(p.read_bytes()).decode().split("\n")[0]]
    if not found:
        pytest.skip("no binNMU changelog on this machine")
    path = found[0]
    package, arch = path.parent.name, path.name.split(".")[2]
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True
    ).stdout
    docs = read_package_docs(Path("/"), package, version, arch, Diagnostics())
    assert docs.changelog is not None and docs.binnmu is not None
    assert docs.binnmu.entries[0].version == version
    assert "+b" in version
    assert compare(docs.changelog.entries[0].version, version) < 0  # the source upload below it
    if package == "bzip2":
        done = run_depgraph("changelog", "bzip2", "--cve", "CVE-2019-12900")
        assert done.status == 0
        assert f"fixed in 1.0.6-9.1 (the installed {version} has it)" in done.stdout


# --- one answer per package: changelog PACKAGE and changelog --all (issue 21, item 9) -----------


def _single(*args: str | Path) -> tuple[int, dict[str, object]]:
    done = run_depgraph("changelog", *args, "--format", "json")
    assert done.status in (0, 1), done.stderr
    return done.status, json.loads(done.stdout)


def _all_rows(*args: str | Path) -> tuple[int, dict[str, dict[str, object]]]:
    done = run_depgraph("changelog", "--all", *args, "--format", "json")
    assert done.status in (0, 1), done.stderr
    return done.status, {row["package"]: row for row in json.loads(done.stdout)["packages"]}


@pytest.mark.parametrize("cve", ["CVE-2014-0160", "CVE-2023-0286", "CVE-2014-9999"])
def test_one_package_and_all_packages_agree_on_this_machine(cve: str) -> None:
    """The issue's repro: bookworm's libssl3 has OpenSSL's CHANGES as changelog.gz, and its
    trimmed Debian changelog does not name Heartbleed. Both modes answer from the same evidence,
    with the same exit status."""
    need_libssl3()
    status, single = _single("libssl3", "--cve", cve)
    all_status, rows = _all_rows("--cve", cve)
    if single["answer"] == "not-named":
        assert "libssl3" not in rows and (status, all_status) == (1, 1)
        return
    row = rows["libssl3"]
    assert (row["answer"], row["fixed_in"]) == (single["answer"], single["fixed_in"])
    assert row["has_fix"] is (status == 0)
    assert all_status == status == 0  # every libssl3 of bookworm has these two fixes


def test_all_reads_openssl_changes_as_one_package_does(tmp_path: Path) -> None:
    """A real root (Debian 7.0, libssl1.0.0 1.0.1e-1, whose complete Debian changelog names
    neither CVE) with OpenSSL's real CHANGES as the package's changelog.gz: CVE-2010-4252 was fixed
    upstream in 1.0.0c, before 1.0.1e (fixed, 0); Heartbleed in 1.0.1g, after it (not fixed, 1)."""
    need_libssl3()
    root = tmp_path / "root"
    shutil.copytree(scenario("debian-7.0-i386"), root, symlinks=True)
    shutil.copy2(LIBSSL3 / "changelog.gz", root / "usr/share/doc/libssl1.0.0/changelog.gz")
    for cve, answer, fixed_in, expected in (
        ("CVE-2010-4252", "fixed-upstream", "1.0.0c", 0),
        ("CVE-2014-0160", "not-fixed", "1.0.1g", 1),
    ):
        status, single = _single("libssl1.0.0", "--root", root, "--cve", cve)
        assert (status, single["answer"], single["fixed_in"]) == (expected, answer, fixed_in)
        all_status, rows = _all_rows("--root", root, "--cve", cve)
        row = rows["libssl1.0.0"]
        assert (all_status, row["answer"], row["fixed_in"]) == (expected, answer, fixed_in)
        assert row["path"] == str(root / "usr/share/doc/libssl1.0.0/changelog.gz")
        assert row["line"] == single["upstream"]["line"]  # type: ignore[index]
        text = run_depgraph("changelog", "--all", "--root", root, "--cve", cve)
        state = "has the fix" if expected == 0 else "older than the fix"
        assert f"fixed in {fixed_in} (upstream)" in text.stdout and state in text.stdout


def test_an_upstream_changelog_that_is_not_openssls_is_read_by_neither_mode(tmp_path: Path) -> None:
    """The same CHANGES without its title line is not taken for OpenSSL's (another project's
    'Changes between' would be read with OpenSSL's branch rules): both modes say not named, 1."""
    need_libssl3()
    root = tmp_path / "root"
    shutil.copytree(scenario("debian-7.0-i386"), root, symlinks=True)
    text = gzip.decompress((LIBSSL3 / "changelog.gz").read_bytes())
    assert text.startswith(b"OpenSSL CHANGES\n")
    untitled = text.replace(b"OpenSSL CHANGES\n", b"Some Project\n", 1)
    (root / "usr/share/doc/libssl1.0.0/changelog.gz").write_bytes(gzip.compress(untitled))
    status, single = _single("libssl1.0.0", "--root", root, "--cve", "CVE-2010-4252")
    assert (status, single["answer"], single["upstream"]) == (1, "not-named", None)
    all_status, rows = _all_rows("--root", root, "--cve", "CVE-2010-4252")
    assert (all_status, rows) == (1, {})


def test_all_fails_when_an_installed_package_lacks_the_fix(tmp_path: Path) -> None:
    """Exit status of --all: 1 when an installed package among those named is older than its
    fix, as 'changelog PACKAGE' says for it (Debian 7.0's 1.0.1e-1 and DSA-2896-1's entry)."""
    root = tmp_path / "root"
    shutil.copytree(scenario("debian-7.0-i386"), root, symlinks=True)
    newer = scenario("raspbian-wheezy") / "usr/share/doc/libssl1.0.0/changelog.Debian.gz"
    shutil.copy2(newer, root / "usr/share/doc/libssl1.0.0/changelog.Debian.gz")
    status, single = _single("libssl1.0.0", "--root", root, "--cve", "CVE-2014-0160")
    assert (status, single["answer"]) == (1, "not-fixed")
    all_status, rows = _all_rows("--root", root, "--cve", "CVE-2014-0160")
    assert (all_status, rows["libssl1.0.0"]["answer"], rows["libssl1.0.0"]["has_fix"]) == (
        1,
        "not-fixed",
        False,
    )
