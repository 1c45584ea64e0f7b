"""Vulnerability profiles (issue 4, "Vulnerability profiles, as data"): the built-in TOML files, their
facts checked against the real advisories and changelogs, the loader's errors, and ``depgraph profiles``."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depgraph.debian.changelog import read_changelog
from depgraph.debian.versions import compare
from depgraph.diagnostics import Diagnostics
from depgraph.profiles import (
    AffectedRange,
    FixedVersion,
    Impact,
    ProfileError,
    adhoc_profile,
    builtin_names,
    builtin_profiles,
    load_profile,
    parse_affected,
    parse_profile,
)
from depgraph.profiles.listing import profile_json
from depgraph.profiles.schema import IMPACTS
from tests.conftest import HEARTBLEED_DATA, REPO, run_depgraph, scenario


def test_builtin_profiles_are_the_three_and_named_like_their_files() -> None:
    assert builtin_names() == ("heartbleed", "openssl-cve-2022-3602", "xz-backdoor")
    assert [p.id for p in builtin_profiles()] == list(builtin_names())


def test_heartbleed_facts_match_the_advisories() -> None:
    profile = load_profile("heartbleed")
    assert profile.cves == ("CVE-2014-0160",)
    assert profile.libraries == ("libssl1.0.0",)
    assert profile.component == "libssl"
    assert profile.disclosed == datetime.date(2014, 4, 7)
    fixed = {(f.distribution, f.release): f.version for f in profile.fixed}
    assert fixed == {
        ("debian", "wheezy"): "1.0.1e-2+deb7u5",
        ("debian", "jessie"): "1.0.1g-1",
        ("debian", "sid"): "1.0.1g-1",
        ("ubuntu", "precise"): "1.0.1-4ubuntu5.12",
        ("ubuntu", "quantal"): "1.0.1c-3ubuntu2.7",
        ("ubuntu", "saucy"): "1.0.1e-3ubuntu1.2",
        ("ubuntu", "trusty"): "1.0.1f-1ubuntu2",
    }
    # Every version in the table appears, verbatim, in the saved advisories.
    advisories = "".join(
        path.read_text(errors="replace")
        for path in (HEARTBLEED_DATA.glob("05-*/*"))
        if path.is_file()
    )
    for version in fixed.values():
        assert version in advisories
    assert [step.step for step in profile.remediation][:2] == ["upgrade", "restart"]


@pytest.mark.parametrize(
    ("upstream", "affected"),
    [
        ("1.0.1", True),
        ("1.0.1c", True),
        ("1.0.1e", True),
        ("1.0.1f", True),
        ("1.0.2~beta1", True),
        ("0.9.8o", False),
        ("1.0.0", False),
        ("1.0.0l", False),
        ("1.0.1g", False),
        ("1.0.1t", False),
        ("1.0.2~beta2", False),
        ("1.0.2", False),
        ("1.0.2k", False),
    ],
)
def test_heartbleed_ranges(upstream: str, affected: bool) -> None:
    profile = load_profile("heartbleed")
    assert any(r.contains(upstream) for r in profile.affected) is affected


def test_libssl3_profile_is_checked_against_this_machines_changelog() -> None:
    path = Path("/usr/share/doc/libssl3/changelog.Debian.gz")
    if not path.is_file():
        pytest.skip("libssl3 is not installed on this machine")
    profile = load_profile("openssl-cve-2022-3602")
    assert profile.libraries == ("libssl3",)
    changelog = read_changelog(path, Diagnostics())
    assert changelog is not None
    (bookworm,) = [f for f in profile.fixed if f.release == "bookworm"]
    for cve in profile.cves:
        naming = changelog.mentioning(cve)
        assert [entry.version for entry in naming] == [bookworm.version]
    assert any(r.contains("3.0.6") for r in profile.affected)
    assert any(r.contains("3.0.0~~alpha1") for r in profile.affected)
    assert not any(r.contains("3.0.7") for r in profile.affected)
    assert not any(r.contains("1.1.1n") for r in profile.affected)


def test_xz_profile_has_the_transitive_sshd_path_and_the_reverted_version() -> None:
    profile = load_profile("xz-backdoor")
    assert profile.cves == ("CVE-2024-3094",)
    assert profile.libraries == ("liblzma5",)
    (exposure,) = profile.exposures
    assert (exposure.package, exposure.via) == ("openssh-server", ("libsystemd0",))
    assert [
        r.contains(v) for r in profile.affected for v in ("5.4.1", "5.6.0", "5.6.1", "5.6.2")
    ] == [
        False,
        True,
        True,
        False,
    ]
    assert profile.fixed_for("debian", "sid") is not None
    # This machine's liblzma5 changelog (bookworm, never affected) does not name the CVE.
    path = Path("/usr/share/doc/liblzma5/changelog.Debian.gz")
    if path.is_file():
        changelog = read_changelog(path, Diagnostics())
        assert changelog is not None and changelog.entries
        assert changelog.mentioning("CVE-2024-3094") == ()


def test_a_profile_file_by_path_and_its_origin(tmp_path: Path) -> None:
    copy = tmp_path / "mine.toml"
    shutil.copy(REPO / "depgraph/profiles/heartbleed.toml", copy)
    profile = load_profile(str(copy))
    assert profile.origin == str(copy)
    assert profile == load_profile("heartbleed").__class__(
        **{**_fields(load_profile("heartbleed")), "origin": str(copy)}
    )


def _fields(profile: object) -> dict[str, object]:
    return {name: getattr(profile, name) for name in profile.__dataclass_fields__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.replace('cves = ["CVE-2014-0160"]', 'cves = ["CVE-14-0160"]'), "cves"),
        (lambda t: t.replace('cves = ["CVE-2014-0160"]\n', ""), "cves: missing"),
        (lambda t: t.replace('fixed = "1.0.1g"', 'fixed = "1.0.1 g"'), "not a Debian version"),
        (lambda t: t.replace('component = "libssl"', 'component = "libfoo"'), "component"),
        (lambda t: t.replace("disclosed = 2014-04-07", 'disclosed = "April"'), "disclosed"),
        (lambda t: t.replace("[[fixed]]", "[[fixed]", 1), "not valid TOML"),
        (lambda t: t.replace('version = "1.0.1e-2+deb7u5"\n', ""), "[[fixed]][1].version: missing"),
    ],
)
def test_bad_profiles_are_one_line_errors(damage, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = (REPO / "depgraph/profiles/heartbleed.toml").read_text()
    damaged = damage(text)
    assert damaged != text
    with pytest.raises(ProfileError) as raised:
        parse_profile(damaged.encode(), "bad.toml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("bad.toml")
    path = tmp_path / "bad.toml"
    path.write_text(damaged)
    done = run_depgraph("profiles", "--show", path)
    assert done.status == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_an_ad_hoc_cve_that_a_builtin_profile_knows_takes_its_knowledge() -> None:
    """Issue 24, case 4: the built-in profile's ranges, impact and date are used where the user
    gave none, the user's fixed version stays the user's, and a renamed library (t64) counts."""
    xz = load_profile("xz-backdoor")
    profile = adhoc_profile("liblzma5", "CVE-2024-3094", "5.6.1+really5.4.5-1")
    assert profile.known_from == "builtin:xz-backdoor"
    assert (profile.affected, profile.affected_from) == (xz.affected, "builtin:xz-backdoor")
    assert (profile.impact, profile.disclosed) == (Impact.BACKDOOR, xz.disclosed)
    assert profile.fixed[0].source == "--fixed-version"
    mine = adhoc_profile("liblzma5", "CVE-2024-3094", None, (">= 5.6.0, <= 5.6.1",), "other")
    assert (mine.affected_from, mine.impact) == ("--affected", Impact.OTHER)
    renamed = adhoc_profile("libssl3t64", "CVE-2022-3602")
    assert renamed.known_from == "builtin:openssl-cve-2022-3602"
    other_library = adhoc_profile("libgnutls30", "CVE-2022-3602")
    assert other_library.known_from == ""
    with pytest.raises(ProfileError, match="--impact: 'leak' is not one of memory-disclosure"):
        adhoc_profile("liblzma5", "CVE-2024-3094", impact="leak")


def test_profile_impact_and_sonames_follow_the_schema() -> None:
    base = 'id = "x"\ntitle = "t"\ncves = ["CVE-2020-0001"]\nlibraries = ["libx1"]\n'
    profile = parse_profile(
        (base + 'impact = "denial-of-service"\nsonames = ["libx.so.1"]').encode(), "x"
    )
    assert (profile.impact, profile.sonames) == (Impact.DENIAL_OF_SERVICE, ("libx.so.1",))
    assert parse_profile(base.encode(), "x").impact is Impact.UNKNOWN
    with pytest.raises(ProfileError, match="'crash' is not one of memory-disclosure"):
        parse_profile((base + 'impact = "crash"').encode(), "x")
    with pytest.raises(ProfileError, match="is not a shared object name"):
        parse_profile((base + 'sonames = ["../libx.so"]').encode(), "x")
    assert {impact.value for impact in Impact} - {"unknown"} == set(IMPACTS)


def test_unknown_builtin_profile_names_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="heartbleed"):
        load_profile("shellshock")


def test_adhoc_profile() -> None:
    profile = adhoc_profile("libssl3", "cve-2022-3602", "3.0.7-1")
    assert profile.cves == ("CVE-2022-3602",)
    fixed = profile.fixed_for("debian", "bookworm")
    assert fixed is not None and fixed.version == "3.0.7-1"
    assert profile.any_release_fixed() == FixedVersion("*", "*", "3.0.7-1", "--fixed-version")
    unknown = adhoc_profile("libfoo1", "CVE-2022-3602", "1.2-1")
    assert (unknown.affected, unknown.known_from, unknown.impact) == ((), "", Impact.UNKNOWN)
    with pytest.raises(ProfileError):
        adhoc_profile("libssl3", "2022-3602")
    with pytest.raises(ProfileError):
        adhoc_profile("libssl3", "CVE-2022-3602", "not a version!")


def test_profiles_command_lists_and_shows() -> None:
    done = run_depgraph("profiles")
    assert done.status == 0
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["PROFILE", "CVES", "LIBRARIES"]
    assert [line.split()[0] for line in lines[1:]] == list(builtin_names())
    done = run_depgraph("profiles", "--format", "json")
    document = json.loads(done.stdout)
    assert document["schema"] == "depgraph/profiles/v1"
    assert [p["id"] for p in document["profiles"]] == list(builtin_names())
    shown = run_depgraph("profiles", "--show", "heartbleed")
    assert "ubuntu trusty: 1.0.1f-1ubuntu2" in shown.stdout
    assert "vulnerable: upstream >= 1.0.1~, < 1.0.1g" in shown.stdout


def test_profiles_are_package_data() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert '"profiles/*.toml"' in text
    assert scenario("raspbian-wheezy").is_dir()  # the fixtures the other tests use are present


# --- --affected: Debian version constraints read into the profiles' range model (issue 21, item 5)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">= 5.6.0, < 5.6.1+really5.4.5-1", AffectedRange("5.6.0", fixed="5.6.1+really5.4.5-1")),
        (">=5.6.0,<<5.6.2", AffectedRange("5.6.0", fixed="5.6.2")),
        (">= 1.0.1, <= 1.0.1f", AffectedRange("1.0.1", last_affected="1.0.1f")),
        ("= 5.6.0-0.2", AffectedRange("5.6.0-0.2", last_affected="5.6.0-0.2")),
        ("< 1.0.1g", AffectedRange("0", fixed="1.0.1g")),
        (">= 1.0.1~", AffectedRange("1.0.1~")),
    ],
)
def test_affected_specs(spec: str, expected: AffectedRange) -> None:
    assert parse_affected(spec) == expected


def test_heartbleeds_profile_range_and_the_same_range_given_on_the_command_line_agree() -> None:
    """One model: the profile's first [[affected]] table and its --affected spelling."""
    (profile_range, _) = load_profile("heartbleed").affected
    given = parse_affected(str(profile_range))
    assert given == profile_range
    for upstream in ("1.0.0", "1.0.1", "1.0.1e", "1.0.1f", "1.0.1g", "1.0.2"):
        assert given.contains(upstream) is profile_range.contains(upstream)


def test_affected_bounds_with_a_revision_are_package_versions() -> None:
    """``5.6.1+really5.4.5-1`` is the fixed package, compared with the whole installed version; an
    upstream bound (``5.6.0``) is compared with the upstream version, ``+really`` honoured."""
    spec = parse_affected(">= 5.6.0, < 5.6.1+really5.4.5-1")
    assert not spec.contains("5.4.1", "5.4.1-1") and spec.before("5.4.1", "5.4.1-1")
    assert spec.contains("5.6.0", "5.6.0-0.2")
    assert spec.contains("5.6.1", "5.6.1-1")
    assert not spec.contains("5.4.5", "5.6.1+really5.4.5-1")
    assert not spec.contains("5.4.5", "5.6.1+really5.4.5-2")
    assert str(spec) == ">= 5.6.0, < 5.6.1+really5.4.5-1"
    assert str(parse_affected("< 1.0.1g")) == "< 1.0.1g"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5.6.0", "'5.6.0' is not a constraint"),
        (">= 5.6.0,", "'' is not a constraint"),
        ("> 5.6.0", "'>' is not taken"),
        (">> 5.6.0", "'>>' is not taken"),
        (">= 5.6.0, >= 5.6.1", "more than one lower bound"),
        ("< 5.6.0, <= 5.6.1", "more than one upper bound"),
        (">= 5.6.1, < 5.6.0", "contains no version"),
        (">= 5.6!0", "'5.6!0' is not a Debian version"),
        (">= not_a_version", "is not a Debian version"),
        ("", "is not a constraint"),
    ],
)
def test_bad_affected_specs_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(ProfileError, match=r"^--affected: ") as error:
        parse_affected(spec)
    assert message in str(error.value)
    done = run_depgraph(
        "audit", "--root", scenario("debian-7.0-i386"), "--library", "libssl1.0.0", "--cve",
        "CVE-2014-0160", "--affected", spec, "-q",
    )  # fmt: skip
    assert done.status == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("depgraph: error: --affected: ") and message in line


def test_affected_needs_the_ad_hoc_options() -> None:
    done = run_depgraph("audit", "--affected", ">= 1.0")
    assert (done.status, done.stderr) == (
        2, "depgraph: error: --affected needs --library and --cve\n"
    )  # fmt: skip


# --- the profile schema (issue 23: "a broken profile is an all-clear")

GOOD_PROFILE = """\
id = "mine"
title = "a bug in libssl"
cves = ["CVE-2014-0160"]
libraries = ["libssl1.0.0"]
component = "libssl"
disclosed = 2014-04-07
source_package = "openssl"

[[affected]]
introduced = "1.0.1"
fixed = "1.0.1g"

[[fixed]]
distribution = "debian"
release = "wheezy"
version = "1.0.1e-2+deb7u5"

[[remediation]]
step = "upgrade"
text = "Upgrade libssl1.0.0."

[[exposure]]
package = "openssh-server"
via = ["libsystemd0"]
"""


BROKEN_PROFILES = [
    # ranges that hold no version: the repro said NOT-AFFECTED
    ('introduced = "1.0.1"\nfixed = "1.0.1g"', 'introduced = "1.0.1g"\nfixed = "1.0.1"', "[[affected]][1].fixed: 1.0.1 is not after introduced 1.0.1g: the range holds no version"),
    ('introduced = "1.0.1"', 'introduced = "1.0.1g"', "[[affected]][1].fixed: 1.0.1g is not after introduced 1.0.1g"),
    ('fixed = "1.0.1g"', 'last_affected = "1.0.0"', "[[affected]][1].last_affected: 1.0.0 is before introduced 1.0.1"),
    ('fixed = "1.0.1g"', 'fixed = "1.0.1g"\nlast_affected = "1.0.1f"', "[[affected]][1]: give either fixed or last_affected, not both"),
    # package names (Policy 5.6.1): the repro said "nothing here is exposed"
    ('libraries = ["libssl1.0.0"]', 'libraries = ["LibSSL 1.0.0", "../../etc/passwd"]', "libraries[1]: 'LibSSL 1.0.0' is not a Debian package name"),
    ('libraries = ["libssl1.0.0"]', 'libraries = ["../../etc/passwd"]', "libraries[1]: '../../etc/passwd' is not a Debian package name"),
    ('libraries = ["libssl1.0.0"]', 'libraries = ["libssl1.0.0:amd64"]', "libraries[1]: 'libssl1.0.0:amd64' is not a Debian package name"),
    ('libraries = ["libssl1.0.0"]', 'libraries = []', "libraries: must not be empty"),
    ('libraries = ["libssl1.0.0"]', 'libraries = "libssl1.0.0"', "libraries: expected an array of package names, found a string"),
    ('libraries = ["libssl1.0.0"]', 'libraries = ["libssl1.0.0", "libssl1.0.0"]', "libraries[2]: 'libssl1.0.0' is given twice (also libraries[1])"),
    ('via = ["libsystemd0"]', 'via = ["libsystemd0", "L"]', "[[exposure]][1].via[2]: 'L' is not a Debian package name"),
    ('source_package = "openssl"', 'source_package = ""', "source_package: must not be empty"),
    # misspelt and unknown keys and tables: ignored silently before
    ('component = "libssl"', 'componnet = "libssl"', "componnet: unknown key (did you mean component?)"),
    ("[[fixed]]", "[[fixd]]", "[[fixd]]: unknown table (did you mean [[fixed]]?)"),
    ('fixed = "1.0.1g"', 'fixd = "1.0.1g"', "[[affected]][1].fixd: unknown key (did you mean fixed?)"),
    ('component = "libssl"', 'colour = 7', "colour: unknown key"),
    ('via = ["libsystemd0"]', 'via = ["libsystemd0"]\nreferences = ["DSA-2896-1"]', "[[exposure]][1].references: unknown key; a top-level key must come before the first [[table]]"),
    ('component = "libssl"', '"\\u001b[31m" = 1', r"'\x1b[31m': unknown key"),
    # types
    ('title = "a bug in libssl"', "title = 5", "title: expected a string, found an integer"),
    ("disclosed = 2014-04-07", "disclosed = 2014-04-07T10:00:00", "disclosed: expected a TOML date (2014-04-07), found a date-time"),
    ("[[affected]]", "[affected]", "[[affected]]: expected an array of tables ([[affected]]), found a table"),
    ('title = "a bug in libssl"\n', "", "title: missing"),
    # versions (Policy 5.6.12)
    ('fixed = "1.0.1g"', 'fixed = "1.0.1 g"', "[[affected]][1].fixed: '1.0.1 g' is not a Debian version"),
    ('version = "1.0.1e-2+deb7u5"', 'version = "deb7u5"', "[[fixed]][1].version: 'deb7u5' is not a Debian version (its upstream part must start with a digit)"),
    ('version = "1.0.1e-2+deb7u5"', 'version = "1.0.1e-"', "[[fixed]][1].version: '1.0.1e-' is not a Debian version (empty revision)"),
    ('version = "1.0.1e-2+deb7u5"', 'version = " 1.0.1e-2"', "[[fixed]][1].version: ' 1.0.1e-2' has spaces around it"),
    # control characters: a title must not drive the terminal
    ('title = "a bug in libssl"', 'title = "\\u001b[2Ja bug"', "title: control character U+001B at character 1"),
    ('title = "a bug in libssl"', 'title = "a bug\\nCVE-2014-0160: fixed"', "title: control character U+000A at character 6"),
    ('title = "a bug in libssl"', 'title = "a bug \\u202edexif"', "title: control character U+202E"),
    ('text = "Upgrade libssl1.0.0."', 'text = "Upgrade\\u0085now."', "[[remediation]][1].text: control character U+0085"),
    # the rest of the values
    ('cves = ["CVE-2014-0160"]', 'cves = ["CVE-14-0160"]', "cves[1]: 'CVE-14-0160' is not a CVE id"),
    ('cves = ["CVE-2014-0160"]', 'cves = ["CVE-2014-0160", "cve-2014-0160"]', "cves[2]: 'cve-2014-0160' is given twice (also cves[1])"),
    ('id = "mine"', 'id = "../mine"', "id: '../mine' is not a profile id"),
    ('step = "upgrade"', 'step = "Upgrade now"', "[[remediation]][1].step: 'Upgrade now' is not a step name"),
    ('component = "libssl"', 'upstream_changes = "gnutls"', "upstream_changes: 'gnutls' is not one of openssl"),
    ('version = "1.0.1e-2+deb7u5"', 'version = "1.0.1e-2+deb7u5"\n\n[[fixed]]\ndistribution = "Debian"\nrelease = "wheezy"\nversion = "1.0.1e-2+deb7u6"', "[[fixed]][2]: distribution debian release wheezy is given twice (also [[fixed]][1])"),
]  # fmt: skip


def test_the_good_profile_loads_and_audits() -> None:
    profile = parse_profile(GOOD_PROFILE.encode(), "good.toml")
    assert profile.libraries == ("libssl1.0.0",)
    assert profile.affected == (AffectedRange("1.0.1", fixed="1.0.1g"),)


@pytest.mark.parametrize(("old", "new", "message"), BROKEN_PROFILES)
def test_a_broken_profile_is_one_line_naming_the_file_and_key(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    """Each case through the command line, as a user meets it: exit 2, nothing on stdout, one
    line on stderr naming the file and the key path, with no control character from the file."""
    assert old in GOOD_PROFILE
    path = tmp_path / "broken.toml"
    path.write_text(GOOD_PROFILE.replace(old, new, 1))
    done = run_depgraph(
        "audit", "--root", scenario("debian-7.0-i386"), "--profile", path, "-q", pure=True
    )
    assert (done.status, done.stdout) == (2, "")
    (line,) = done.stderr.splitlines()
    assert re.match(
        rf"depgraph: error: {re.escape(str(path))}(:[0-9]+)?: {re.escape(message)}", line
    )
    assert all(char.isprintable() for char in line), line


def test_the_broken_profile_cases_are_twenty_and_more() -> None:
    assert len(BROKEN_PROFILES) >= 20
    assert len({new for _, new, _ in BROKEN_PROFILES}) == len(BROKEN_PROFILES)


def test_printable_unicode_is_a_title() -> None:
    text = GOOD_PROFILE.replace("a bug in libssl", "Heartbleed \u2014 d\u00e9j\u00e0 vu \U0001f494")
    profile = parse_profile(text.encode(), "good.toml")
    assert profile.title == "Heartbleed \u2014 d\u00e9j\u00e0 vu \U0001f494"


def test_a_long_bad_value_is_cut_in_the_error() -> None:
    text = GOOD_PROFILE.replace('libraries = ["libssl1.0.0"]', f'libraries = ["{"X" * 3000}"]')
    with pytest.raises(ProfileError) as raised:
        parse_profile(text.encode(), "long.toml")
    assert "(and 2940 more characters)" in str(raised.value)
    assert len(str(raised.value)) < 300


def test_the_readme_lists_every_profile_key() -> None:
    """The README's table of profile keys is the schema's own (docs that cannot rot)."""
    from depgraph.profiles.schema import markdown_table

    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--library", "LibSSL 1.0.0", "--library: 'LibSSL 1.0.0' is not a Debian package name"),
        ("--library", "../../etc/passwd", "--library: '../../etc/passwd' is not a Debian package"),
        ("--library", "libssl\x1b[2J", r"--library: 'libssl\x1b[2J' is not a Debian package name"),
        ("--fixed-version", "deb7u5", "--fixed-version: 'deb7u5' is not a Debian version (its"),
        ("--fixed-version", "1.0.1e-", "--fixed-version: '1.0.1e-' is not a Debian version (empty"),
        ("--affected", ">= v1.0.1", "--affected: 'v1.0.1' is not a Debian version (its upstream"),
    ],
)
def test_the_ad_hoc_profile_follows_the_schemas_rules(
    option: str, value: str, message: str
) -> None:
    """``--library``, ``--fixed-version`` and ``--affected`` are held to the profile files' rules."""
    given = {"--library": "libssl1.0.0", option: value}
    done = run_depgraph(
        "audit", "--root", scenario("debian-7.0-i386"), "--cve", "CVE-2014-0160",
        *(part for pair in given.items() for part in pair), "-q", pure=True,
    )  # fmt: skip
    assert (done.status, done.stdout) == (2, "")
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"depgraph: error: {message}"), line
    assert all(char.isprintable() for char in line), line


@pytest.mark.parametrize(
    ("old", "new", "line", "where"),
    [
        ('component = "libssl"', 'componnet = "libssl"', 5, "componnet"),
        ('libraries = ["libssl1.0.0"]', 'libraries = ["L"]', 4, "libraries[1]"),
        ('fixed = "1.0.1g"', 'fixed = "1.0.1"', 11, "[[affected]][1].fixed"),
        ('fixed = "1.0.1g"', 'fixed = "1.0"\nlast_affected = "1.0.1f"', 9, "[[affected]][1]"),
        ("[[fixed]]", "[[fixd]]", 13, "[[fixd]]"),
        ("[[affected]]", "[affected]", 9, "[[affected]]"),
        ('  via = ["libsystemd0"]', 'via = ["libsystemd0", "X"]', 24, "[[exposure]][1].via[2]"),
        ('text = "Upgrade libssl1.0.0."', 'text = "Upgrade\\ttoday."', 20, "[[remediation]][1].text"),
        # the second [[fixed]]'s version, not the first's
        ('version = "1.0.1e-2+deb7u5"', 'version = "1.0.1e-2+deb7u5"\n\n[[fixed]]\n'
         'distribution = "debian"\nrelease = "jessie"\nversion = "v1"', 21, "[[fixed]][2].version"),
        # not written plainly: no line rather than a wrong one
        ('title = "a bug in libssl"\n', "", None, "title"),
        ('[[affected]]\nintroduced = "1.0.1"\nfixed = "1.0.1g"',
         'affected = [{ introduced = "1.0.1", fixd = "1.0.1g" }]', None, "[[affected]][1].fixd"),
        ('component = "libssl"', '"\\u001b" = 1', None, "'\\x1b'"),
    ],
)  # fmt: skip
def test_the_error_gives_the_line_when_the_file_writes_the_key_plainly(
    old: str, new: str, line: int | None, where: str
) -> None:
    """tomllib keeps no positions: the key path is found again in the text (a header, a key =)."""
    text = GOOD_PROFILE.replace(old.strip(), new, 1)
    assert text != GOOD_PROFILE
    with pytest.raises(ProfileError) as raised:
        parse_profile(text.encode(), "mine.toml")
    prefix = "mine.toml" if line is None else f"mine.toml:{line}"
    assert str(raised.value).startswith(f"{prefix}: {where}: "), str(raised.value)
    if line is not None:
        assert where.split("]")[-1].strip(".").split("[")[0] in text.splitlines()[line - 1]


def test_every_key_the_schema_knows_reaches_the_profile() -> None:
    """No key is accepted by the schema and then dropped by the loader: a profile giving every key
    once has each value in the loaded profile."""
    from depgraph.profiles.schema import TABLES, TOP

    text = GOOD_PROFILE.replace(
        'source_package = "openssl"',
        'source_package = "openssl"\nupstream_changes = "openssl"\nreferences = ["DSA-2896-1"]'
        '\nimpact = "memory-disclosure"\nsonames = ["libssl.so.1.0.0"]',
    ).replace(
        'fixed = "1.0.1g"',
        'fixed = "1.0.1g"\n\n[[affected]]\nintroduced = "1.0.2~beta1"\n'
        'last_affected = "1.0.2~beta1"',
    )
    text = text.replace('release = "wheezy"', 'release = "wheezy"\nsource = "DSA-2896-1"')
    text = text.replace('via = ["libsystemd0"]', 'via = ["libsystemd0"]\nwhy = "sshd links it"')
    document = tomllib.loads(text)
    given = {key.name for key in TOP.keys} & set(document)
    given |= {f"{t.name}.{key}" for t in TABLES for entry in document[t.name] for key in entry}
    known = {key.name for key in TOP.keys} | {
        f"{t.name}.{key.name}" for t in TABLES for key in t.keys
    }
    assert given == known
    profile = parse_profile(text.encode(), "all.toml")
    shown = json.dumps(profile_json(profile))
    for value in _leaves(document):
        assert str(value) in shown, value


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_the_refused_characters_are_unicodes_controls_separators_and_bidi_marks() -> None:
    """The schema's character class is exactly Unicode's Cc, Zl and Zp and the UAX 9 marks,
    embeddings, overrides and isolates, over every code point."""
    import unicodedata

    from depgraph.profiles.schema import _CONTROL

    bidi = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    for point in range(0x110000):
        char = chr(point)
        expected = unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in bidi
        assert (_CONTROL.fullmatch(char) is not None) is expected, hex(point)


_VERSIONS = st.from_regex(
    r"([0-9]:)?[0-9]{1,2}(\.[0-9a-z~+]{1,3}){0,2}(-[0-9a-z.~+]{1,3})?", fullmatch=True
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_VERSIONS, _VERSIONS, st.booleans())
def test_a_range_loads_exactly_when_it_holds_a_version(
    introduced: str, upper: str, inclusive: bool
) -> None:
    """``fixed`` must sort after ``introduced`` and ``last_affected`` not before it, in dpkg's
    order; then the range holds ``introduced`` itself."""
    key = "last_affected" if inclusive else "fixed"
    text = GOOD_PROFILE.replace('fixed = "1.0.1g"', f'{key} = "{upper}"').replace(
        'introduced = "1.0.1"', f'introduced = "{introduced}"'
    )
    order = compare(introduced, upper)
    holds = order <= 0 if inclusive else order < 0
    if holds:
        (loaded, *_) = parse_profile(text.encode(), "range.toml").affected
        assert loaded.contains(introduced, introduced)
    else:
        with pytest.raises(
            ProfileError, match=rf"\[\[affected\]\]\[1\]\.{key}: .* holds no version"
        ):
            parse_profile(text.encode(), "range.toml")
