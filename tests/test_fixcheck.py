"""Is the fix in? (issue 4, "Deciding the state of each library package"), on the real dpkg status
files and changelogs of the Heartbleed fixtures and on this machine.

Minimised images (no changelog) and missing release files are made by copying a fixture root into
``tmp_path`` and deleting files from the copy; nothing is invented.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from depgraph.debian.versions import compare
from depgraph.diagnostics import Diagnostics
from depgraph.errors import UsageError
from depgraph.fixcheck import FixState, LibraryVerdict, fix_states, upstream_version
from depgraph.load import SourceOptions, open_index
from depgraph.openssl_version import parse_openssl_version
from depgraph.profiles import adhoc_profile, load_profile
from depgraph.release import parse_release
from tests.conftest import FIXTURES, HEARTBLEED_DATA, SCHEMAS, run_depgraph, scenario

HEARTBLEED = load_profile("heartbleed")
EXPECTED = {
    "debian-wheezy-prerelease-powerpc": ("1.0.1c-3", FixState.VULNERABLE),
    "debian-7.0-i386": ("1.0.1e-1", FixState.VULNERABLE),
    "ubuntu-12.04-armhf-zynq": ("1.0.1-4ubuntu3", FixState.VULNERABLE),
    "ubuntu-12.04.3-armhf": ("1.0.1-4ubuntu5.10", FixState.VULNERABLE),
    "ubuntu-14.04-core-armhf": ("1.0.1f-1ubuntu2", FixState.FIXED_BACKPORT),
    "raspbian-wheezy": ("1.0.1e-2+rvt+deb7u11", FixState.FIXED_BACKPORT),
    "debian-jessie-armel": ("1.0.1t-1+deb8u6", FixState.FIXED),
    "debian-8.7-jessie-mixed": ("1.0.2k-1~bpo8+1", FixState.FIXED),
    "ubuntu-9.04-armel": (None, FixState.NOT_INSTALLED),
}
BACKENDS = ["default", "pure"]


def verdicts(
    root: Path, profile=HEARTBLEED, backend: str = "pure", **options
) -> tuple[LibraryVerdict, ...]:  # type: ignore[no-untyped-def]
    diagnostics = Diagnostics()
    index = open_index(SourceOptions(root=root, pure=backend == "pure"), diagnostics)
    return fix_states(profile, index, root, diagnostics, **options)


def only(root: Path, **options) -> LibraryVerdict:  # type: ignore[no-untyped-def]
    (verdict,) = verdicts(root, **options)
    return verdict


def kinds(verdict: LibraryVerdict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for evidence in verdict.evidence:
        found.setdefault(evidence.kind, []).append(evidence.detail)
    return found


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_real_status_file_gets_the_right_state(name: str, backend: str) -> None:
    version, state = EXPECTED[name]
    verdict = only(scenario(name), backend=backend)
    assert (verdict.package, verdict.version, verdict.state) == ("libssl1.0.0", version, state)
    assert verdict.evidence and verdict.reason
    assert verdict.conflicts == ()


def test_rules_that_decided() -> None:
    decided = {name: only(scenario(name)).decided_by for name in EXPECTED}
    assert decided == {
        "debian-wheezy-prerelease-powerpc": "fixed-version",
        "debian-7.0-i386": "fixed-version",
        "ubuntu-12.04-armhf-zynq": "fixed-version",
        "ubuntu-12.04.3-armhf": "fixed-version",
        "ubuntu-14.04-core-armhf": "changelog",
        "raspbian-wheezy": "changelog",
        "debian-jessie-armel": "version-range",
        "debian-8.7-jessie-mixed": "version-range",
        "ubuntu-9.04-armel": "dpkg-status",
    }


def test_backport_evidence_quotes_the_entry_with_file_and_line() -> None:
    verdict = only(scenario("raspbian-wheezy"))
    (changelog,) = [e for e in verdict.evidence if e.kind == "changelog"]
    assert changelog.line == 75
    assert changelog.path is not None and changelog.path.endswith("libssl1.0.0/changelog.Debian.gz")
    assert "1.0.1e-2+deb7u5 (wheezy-security, Mon, 07 Apr 2014 22:26:55 +0200" in changelog.detail
    assert verdict.fixed_in == "1.0.1e-2+deb7u5"
    (fixed,) = kinds(verdict)["fixed-version"]
    assert "compared as 1.0.1e-2+deb7u11" in fixed  # the +rvt tag set aside


def test_trimmed_ubuntu_changelog_is_not_taken_as_evidence() -> None:
    verdict = only(scenario("ubuntu-12.04.3-armhf"))
    (changelog,) = kinds(verdict)["changelog"]
    assert "trimmed at 1.0.1-4ubuntu5" in changelog and "not evidence" in changelog
    assert "first fixed version 1.0.1-4ubuntu5.12" in verdict.reason


def test_minimised_image_falls_back_to_the_fixed_version_table(tmp_path: Path) -> None:
    for name, state in (
        ("ubuntu-14.04-core-armhf", FixState.FIXED_BACKPORT),
        ("debian-7.0-i386", FixState.VULNERABLE),
    ):
        root = tmp_path / name
        shutil.copytree(scenario(name), root, symlinks=True)
        (root / "usr/share/doc/libssl1.0.0/changelog.Debian.gz").unlink()
        verdict = only(root)
        assert (verdict.state, verdict.decided_by) == (state, "fixed-version")
        assert "no readable changelog.Debian.gz" in " ".join(kinds(verdict)["changelog"])


def test_unsure_is_unknown_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(scenario("ubuntu-14.04-core-armhf"), root, symlinks=True)
    (root / "usr/share/doc/libssl1.0.0/changelog.Debian.gz").unlink()
    for name in ("os-release", "lsb-release"):
        (root / "etc" / name).unlink()
    verdict = only(root)
    assert verdict.state is FixState.UNKNOWN
    assert "in the vulnerable range" in verdict.reason
    assert "no first fixed version is known" in verdict.reason
    # Given the release, the table decides again.
    assert only(root, release=parse_release("trusty")).state is FixState.FIXED_BACKPORT


def test_release_option_overrides_the_tree() -> None:
    # The 1.0.1c-3 of a wheezy/sid system judged as jessie: still below 1.0.1g-1.
    verdict = only(scenario("debian-wheezy-prerelease-powerpc"), release=parse_release("jessie"))
    assert verdict.state is FixState.VULNERABLE
    assert "1.0.1g-1" in verdict.reason


def test_conflicting_evidence_is_shown() -> None:
    # An ad-hoc fixed version at or below 1.0.1c-3, whose complete changelog never names the CVE.
    profile = adhoc_profile("libssl1.0.0", "CVE-2014-0160", "1.0.1c-3")
    verdict = only(scenario("debian-wheezy-prerelease-powerpc"), profile=profile)
    assert (verdict.state, verdict.decided_by) == (FixState.FIXED_BACKPORT, "fixed-version")
    own, silent = verdict.conflicts
    assert "complete changelog does not name CVE-2014-0160" in silent
    # the user's version decides; the release's own (from the built-in heartbleed profile) disagrees
    assert own == (
        "installed 1.0.1c-3 is at or above the first fixed version 1.0.1c-3 given with "
        "--fixed-version, but below Debian wheezy's own first fixed version 1.0.1e-2+deb7u5"
    )


def test_adhoc_profile_without_range_or_fixed_version() -> None:
    profile = adhoc_profile("libssl1.0.0", "CVE-2014-0224")  # no built-in profile knows it
    verdict = only(scenario("debian-7.0-i386"), profile=profile)
    assert verdict.state is FixState.UNKNOWN  # never "not affected" without a range
    assert "no affected range given (--affected)" in verdict.reason


def test_an_adhoc_cve_a_builtin_knows_is_judged_by_its_ranges_and_release_table() -> None:
    """Issue 24, case 4: Heartbleed's built-in profile knows the ranges and wheezy's own first
    fixed version (DSA-2896-1): without --fixed-version they decide, each named as the built-in's."""
    profile = adhoc_profile("libssl1.0.0", "CVE-2014-0160")
    verdict = only(scenario("debian-7.0-i386"), profile=profile)
    assert (verdict.state, verdict.decided_by) == (FixState.VULNERABLE, "fixed-version")
    assert "of builtin:heartbleed" in kinds(verdict)["version-range"][0]
    (table,) = kinds(verdict)["fixed-version"]
    assert table.startswith("Debian 7.0 (wheezy): first fixed version 1.0.1e-2+deb7u5 [DSA-2896-1")
    assert table.endswith("from builtin:heartbleed]; installed 1.0.1e-1 is below it")
    assert only(scenario("raspbian-wheezy"), profile=profile).state is FixState.FIXED_BACKPORT


def test_openssl_cli_package_is_never_the_librarys_state() -> None:
    verdict = only(scenario("debian-8.7-jessie-mixed"))
    assert verdict.version == "1.0.2k-1~bpo8+1"
    (cli,) = [d for d in kinds(verdict)["dpkg-status"] if "command-line" in d]
    assert "1.0.1t-1+deb8u5" in cli


def test_openssl_version_a_is_weak_evidence_and_conflicts_are_kept() -> None:
    data = HEARTBLEED_DATA / "15-openssl-version-a-outputs"
    patched = parse_openssl_version((data / "ubuntuforums-SSL-question-2014-04-19.md").read_text())
    old = parse_openssl_version(
        (data / "fens.me-nodejs-https-server-EXCERPT-openssl-version-a.txt").read_text()
    )
    assert patched is not None and old is not None
    root = scenario("ubuntu-12.04.3-armhf")
    with_old = only(root, openssl=old)
    assert with_old.state is FixState.VULNERABLE and with_old.conflicts == ()
    assert "before the fix date 2014-04-07" in kinds(with_old)["openssl-version"][0]
    with_new = only(root, openssl=patched)
    assert with_new.state is FixState.VULNERABLE  # the build date never decides
    (conflict,) = with_new.conflicts
    assert "Mon Apr  7 20:33:29 UTC 2014" in conflict
    other = only(scenario("ubuntu-14.04-core-armhf"), openssl=old)  # 1.0.1 is not trusty's 1.0.1f
    assert "not this library's 1.0.1f: not used" in kinds(other)["openssl-version"][0]


def test_openssl_version_a_of_another_release_or_of_a_not_affected_library(
    tmp_path: Path,
) -> None:
    """A library outside the range from below (1.0.1 against a bug introduced in 1.0.2) is not
    affected whatever its build date: an old build is no conflict. And ``openssl version -a``
    naming another release (1.0.1e, 1.0.1 plus a letter, is not the 1.0.1 installed) is not used."""
    old = parse_openssl_version(
        (
            HEARTBLEED_DATA
            / "15-openssl-version-a-outputs"
            / "fens.me-nodejs-https-server-EXCERPT-openssl-version-a.txt"
        ).read_text()
    )
    assert old is not None and old.version == "1.0.1"
    profile_file = tmp_path / "later-bug.toml"
    profile_file.write_text(
        'id = "later-bug"\ntitle = "a bug of 1.0.2 only"\ncves = ["CVE-2099-0002"]\n'
        'disclosed = 2015-01-01\nsource_package = "openssl"\nlibraries = ["libssl1.0.0"]\n'
        '[[affected]]\nintroduced = "1.0.2~"\nfixed = "1.0.2a"\n'
    )
    profile = load_profile(str(profile_file))
    root = scenario("ubuntu-12.04.3-armhf")  # libssl1.0.0 1.0.1-4ubuntu5.10
    verdict = only(root, profile=profile, openssl=old)
    assert verdict.state is FixState.NOT_AFFECTED
    assert verdict.conflicts == ()
    assert "before the fix date" in kinds(verdict)["openssl-version"][0]
    other = parse_openssl_version(
        "OpenSSL 1.0.1e 11 Feb 2013\nbuilt on: Tue Apr 8 10:00:00 UTC 2014\n"
    )
    assert other is not None
    unused = only(root, openssl=other)
    assert "not this library's 1.0.1: not used" in kinds(unused)["openssl-version"][0]


def test_the_upstream_changelog_is_read_only_where_the_profile_names_its_format(
    tmp_path: Path,
) -> None:
    """A truncated upstream ``changelog.gz``: OpenSSL's (Heartbleed's profile reads its CHANGES)
    gives a warning; xz's, under the xz-backdoor profile, is not OpenSSL's format and is not
    read at all."""
    from tests.conftest import run_depgraph

    def root_with(package: str, status: str, doc: Path) -> Path:
        root = tmp_path / package
        (root / "var/lib/dpkg").mkdir(parents=True)
        (root / "var/lib/dpkg/status").write_text(status)
        target = root / "usr/share/doc" / package
        target.mkdir(parents=True)
        shutil.copy(doc / "changelog.Debian.gz", target)
        (target / "changelog.gz").write_bytes((doc / "changelog.Debian.gz").read_bytes()[:300])
        return root

    lzma = Path("/usr/share/doc/liblzma5")
    record = (
        "Package: liblzma5\nStatus: install ok installed\nArchitecture: amd64\n"
        "Multi-Arch: same\nSource: xz-utils\nVersion: 5.6.0-0.2\nDescription: XZ library\n"
    )
    xz = root_with("liblzma5", record, lzma)
    done = run_depgraph("audit", "--root", xz, "--profile", "xz-backdoor")
    assert "changelog.gz" not in done.stderr, done.stderr
    raspbian = scenario("raspbian-wheezy")
    libssl = root_with(
        "libssl1.0.0",
        (raspbian / "var/lib/dpkg/status").read_text(),
        raspbian / "usr/share/doc/libssl1.0.0",
    )
    done = run_depgraph("audit", "--root", libssl)
    assert "libssl1.0.0/changelog.gz:" in done.stderr and "truncated gzip" in done.stderr


def test_saved_status_file_has_no_changelog_but_a_release() -> None:
    diagnostics = Diagnostics()
    status = scenario("ubuntu-12.04.3-armhf") / "var/lib/dpkg/status"
    index = open_index(SourceOptions(status=status), diagnostics)
    (verdict,) = fix_states(HEARTBLEED, index, None, diagnostics, release=parse_release("precise"))
    assert verdict.state is FixState.VULNERABLE
    assert "no files to read" in kinds(verdict)["changelog"][0]


def test_report_items_match_report_v1() -> None:
    schema = json.loads((SCHEMAS / "report-v1.schema.json").read_text())
    item = {"$defs": schema["$defs"], **schema["properties"]["library"]}
    items = [only(scenario(name)).to_report() for name in EXPECTED]
    jsonschema.validate(items, item)
    assert [i["state"] for i in items] == [state.value for _, state in EXPECTED.values()]


def test_upstream_versions() -> None:
    assert upstream_version("1.0.1e-2+deb7u5") == ("1.0.1e", "1.0.1e")
    assert upstream_version("5.6.1+really5.4.5-1") == ("5.6.1", "5.4.5")
    assert upstream_version("1:9.2p1-2+deb12u10") == ("9.2p1", "9.2p1")
    assert upstream_version("1.0.1f+dfsg-1") == ("1.0.1f", "1.0.1f")


# --- this machine -----------------------------------------------------------------------------


def live(name: str) -> LibraryVerdict:
    diagnostics = Diagnostics()
    index = open_index(SourceOptions(), diagnostics)
    (verdict,) = fix_states(load_profile(name), index, Path("/"), diagnostics)
    return verdict


def test_this_machine_libssl3() -> None:
    verdict = live("openssl-cve-2022-3602")
    if verdict.state is FixState.NOT_INSTALLED:
        pytest.skip("libssl3 is not installed")
    assert verdict.state is FixState.FIXED  # 3.0.22 is past 3.0.6
    assert any("3.0.7-1" in d for d in kinds(verdict)["changelog"])


def test_this_machine_liblzma5_predates_the_backdoor() -> None:
    verdict = live("xz-backdoor")
    if verdict.state is FixState.NOT_INSTALLED:
        pytest.skip("liblzma5 is not installed")
    _, real = upstream_version(verdict.version or "")
    expected = FixState.NOT_AFFECTED if compare(real, "5.6.0") < 0 else FixState.FIXED
    assert verdict.state is expected


# --- a --library name no source knows (issue 21, item 2) ----------------------------------------

DEBIAN_7 = scenario("debian-7.0-i386")
TRUSTY_INDEX = HEARTBLEED_DATA.parent / "indexes/trusty-amd64"
TRUSTY_MAIN = TRUSTY_INDEX / "archive.ubuntu.com_ubuntu_dists_trusty_main_binary-amd64_Packages.gz"
SOURCES = {
    "root": ("--root", DEBIAN_7),
    "status": ("--status", DEBIAN_7 / "var/lib/dpkg/status"),
    "dpkg-list": ("--dpkg-list", FIXTURES / "audit/dpkg-list-only/dpkg-l.txt"),
    "packages": ("--packages", TRUSTY_MAIN),
}


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_a_library_name_no_source_knows_is_a_usage_error(source: str, pure: bool) -> None:
    """A typo is not an all-clear: exit 2 and one line naming the input, as 'depgraph graph'."""
    for quiet in ((), ("-q",)):
        done = run_depgraph(
            "audit", *SOURCES[source], "--library", "no-such-pkg", "--cve", "CVE-2020-0001",
            *quiet, pure=pure,
        )  # fmt: skip
        assert done.status == 2, done.stdout
        assert done.stdout == ""
        (line,) = done.stderr.splitlines()
        assert line.startswith("depgraph: error: --library no-such-pkg: no package called")
    graph = run_depgraph("graph", *SOURCES[source], "no-such-pkg", pure=pure)
    assert graph.status == 2


def _with_lists(tmp_path: Path, *lists: Path) -> Path:
    """A copy of a real root with real apt lists in ``var/lib/apt/lists``."""
    root = tmp_path / "root"
    shutil.copytree(DEBIAN_7, root, symlinks=True)
    folder = root / "var/lib/apt/lists"
    folder.mkdir(parents=True, exist_ok=True)
    for path in lists:
        shutil.copy2(path, folder / path.name)
    return root


@pytest.mark.parametrize("pure", [False, True], ids=["python-apt", "pure"])
def test_a_known_library_that_is_not_installed_is_a_true_all_clear(
    tmp_path: Path, pure: bool
) -> None:
    """libnss3 is in trusty's main list and not installed on the Debian 7 root: nothing here uses
    it (exit 0), and the evidence says how the name was found; the list is searched, not parsed
    into the installed-only index. Without the list the same name is an error."""
    bare = run_depgraph("audit", "--root", DEBIAN_7, "--library", "libnss3", "--cve",
                        "CVE-2020-0001", "-q", pure=pure)  # fmt: skip
    assert bare.status == 2 and "no package called libnss3" in bare.stderr
    root = _with_lists(tmp_path, TRUSTY_MAIN)
    done = run_depgraph("audit", "--root", root, "--library", "libnss3", "--cve", "CVE-2020-0001",
                        "--format", "json", pure=pure)  # fmt: skip
    assert done.status == 0, done.stderr
    (verdict,) = json.loads(done.stdout)["library"]
    assert verdict["state"] == "not-installed"
    detail = verdict["evidence"][0]["detail"]
    assert f"apt's list {root}/var/lib/apt/lists/{TRUSTY_MAIN.name} has it" in detail
    quiet = run_depgraph("audit", "--root", root, "--library", "libnss3", "--cve", "CVE-2020-0001",
                         "-q", pure=pure)  # fmt: skip
    assert (quiet.status, quiet.stdout.split(";")[2]) == (0, " library not-installed")


def test_a_library_known_from_a_packages_index_or_a_removed_record(tmp_path: Path) -> None:
    """Saved files: a Packages entry, or a dpkg record of a removed package (rc), is a known name."""
    done = run_depgraph("audit", "--status", DEBIAN_7 / "var/lib/dpkg/status", "--packages",
                        TRUSTY_MAIN, "--library", "libnss3", "--cve", "CVE-2020-0001",
                        "--format", "json")  # fmt: skip
    assert done.status == 0, done.stderr
    (verdict,) = json.loads(done.stdout)["library"]
    assert verdict["state"] == "not-installed"
    assert f"is available in {TRUSTY_MAIN}" in verdict["evidence"][0]["detail"]
    status = tmp_path / "status"
    text = (DEBIAN_7 / "var/lib/dpkg/status").read_text(encoding="utf-8")
    removed = re.sub(r"(Package: libgnutls26\n(?:.+\n)*?)Status: .*",
                     r"\1Status: deinstall ok config-files", text, count=1)  # fmt: skip
    assert removed != text
    status.write_text(removed, encoding="utf-8")
    done = run_depgraph("audit", "--status", status, "--library", "libgnutls26", "--cve",
                        "CVE-2020-0001", "--format", "json")  # fmt: skip
    assert done.status == 0, done.stderr
    (verdict,) = json.loads(done.stdout)["library"]
    assert verdict["state"] == "not-installed"
    assert "(dpkg state: config-files)" in verdict["evidence"][0]["detail"]


def test_a_virtual_library_name_asks_for_a_real_one() -> None:
    """A name only Provided (not a package) cannot be 'not installed': name a provider instead."""
    done = run_depgraph("audit", "--root", DEBIAN_7, "--library", "awk", "--cve", "CVE-2020-0001")
    assert done.status == 2
    assert "--library awk: a virtual package provided by mawk" in done.stderr


# --- --affected and the user's --fixed-version (issue 21, item 5) -------------------------------

HEARTBLEED_SPECS = (">= 1.0.1~, < 1.0.1g", ">= 1.0.2~beta1, < 1.0.2~beta2")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_heartbleed_range_given_with_affected_judges_as_the_profile(name: str) -> None:
    """--affected and a profile's [[affected]] are one model: the same ranges, the same states."""
    profile = adhoc_profile("libssl1.0.0", "CVE-2014-0160", affected=HEARTBLEED_SPECS)
    if (
        EXPECTED[name][1] is FixState.NOT_INSTALLED
    ):  # 9.04 never had libssl1.0.0: not a name it knows
        with pytest.raises(UsageError, match=r"no package called libssl1\.0\.0"):
            only(scenario(name), profile=profile)
        return
    profiled = only(scenario(name))
    if profiled.decided_by == "fixed-version":  # the release's own, given as the user's
        profile = adhoc_profile("libssl1.0.0", "CVE-2014-0160", profiled.fixed_in, HEARTBLEED_SPECS)
    verdict = only(scenario(name), profile=profile)
    assert (verdict.state, verdict.decided_by) == (EXPECTED[name][1], profiled.decided_by)
    if verdict.decided_by == "version-range":
        (said,) = kinds(verdict)["version-range"]
        assert "given with --affected" in said


def test_an_affected_bound_with_a_revision_is_compared_with_the_package_version() -> None:
    """Raspbian's 1.0.1e-2+rvt+deb7u11 is upstream 1.0.1e, inside '< 1.0.1g', but as a package it
    is past 1.0.1e-2+deb7u5 (its vendor tag set aside): not in the range, so fixed by it."""
    profile = adhoc_profile(
        "libssl1.0.0", "CVE-2014-0160", affected=(">= 1.0.1, < 1.0.1e-2+deb7u5",)
    )
    verdict = only(scenario("raspbian-wheezy"), profile=profile)
    assert (verdict.state, verdict.decided_by) == (FixState.FIXED, "version-range")
    inside = only(scenario("debian-7.0-i386"), profile=profile)  # 1.0.1e-1: in the range
    # and below wheezy's own first fixed version, which the built-in heartbleed profile knows
    assert (inside.state, inside.decided_by) == (FixState.VULNERABLE, "fixed-version")
    assert (
        "upstream 1.0.1e, package 1.0.1e-1, is in the vulnerable range"
        in kinds(inside)["version-range"][0]
    )


def adhoc_live(library: str, cve: str, fixed: str | None, *specs: str) -> LibraryVerdict:
    diagnostics = Diagnostics()
    index = open_index(SourceOptions(), diagnostics)
    profile = adhoc_profile(library, cve, fixed, specs)
    (verdict,) = fix_states(profile, index, Path("/"), diagnostics)
    return verdict


def test_xz_backdoor_given_by_hand_on_this_machine() -> None:
    """The issue's repro: bookworm's liblzma5 5.4.1-1 never had 5.6's code. With the affected
    range it is not affected; with only --fixed-version it is below the user's version (an
    assumption, said so), and that version is never called the release's own."""
    spec = ">= 5.6.0, < 5.6.1+really5.4.5-1"
    verdict = adhoc_live("liblzma5", "CVE-2024-3094", "5.6.1+really5.4.5-1", spec)
    if verdict.state is FixState.NOT_INSTALLED or verdict.version != "5.4.1-1":
        pytest.skip("this machine's liblzma5 is not bookworm's 5.4.1-1")
    assert (verdict.state, verdict.decided_by) == (FixState.NOT_AFFECTED, "version-range")
    (said,) = kinds(verdict)["version-range"]
    assert (
        said
        == f"upstream 5.4.1, package 5.4.1-1, is outside the vulnerable range {spec} given with --affected"
    )
    assert adhoc_live("liblzma5", "CVE-2024-3094", None, spec).state is FixState.NOT_AFFECTED
    # issue 24, case 4: without --affected, the built-in xz-backdoor profile's range decides
    known = adhoc_live("liblzma5", "CVE-2024-3094", "5.6.1+really5.4.5-1")
    assert (known.state, known.decided_by) == (FixState.NOT_AFFECTED, "version-range")
    assert kinds(known)["version-range"] == [
        "upstream 5.4.1 is outside the vulnerable range >= 5.6.0, <= 5.6.1 of builtin:xz-backdoor"
    ]
    # a CVE no built-in profile knows: everything below the user's version is assumed vulnerable
    bare = adhoc_live("liblzma5", "CVE-2099-0001", "5.6.1+really5.4.5-1")
    assert (bare.state, bare.decided_by) == (FixState.VULNERABLE, "fixed-version")
    assert bare.reason.startswith(
        "5.4.1-1 is below the first fixed version 5.6.1+really5.4.5-1 given with --fixed-version, "
        "every version below it taken as vulnerable (no affected range given)"
    )
    (table,) = kinds(bare)["fixed-version"]
    assert table == (
        "first fixed version 5.6.1+really5.4.5-1 given with --fixed-version; installed 5.4.1-1 is "
        "below it; no affected range given (--affected): every version below it is assumed vulnerable"
    )
    assert not any("bookworm" in e.detail for e in bare.evidence if e.kind == "fixed-version")
