"""``openssl version -a`` outputs (issue 4: "parse real outputs, live or saved"), from the saved
blog and forum posts in ``shared/data/heartbleed/15-*`` and ``03-*`` and from this machine."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

from depgraph.openssl_version import live_openssl_version, parse_built_on, parse_openssl_version
from tests.conftest import HEARTBLEED_DATA

DATA = HEARTBLEED_DATA
UTC = datetime.UTC


@pytest.mark.parametrize(
    ("path", "version", "built", "platform"),
    [
        (
            "15-openssl-version-a-outputs/2014-04-08-how-to-patch-heartbleed-openssl-defect-libssl-on-ubuntu.rst",
            "1.0.1",
            datetime.datetime(2012, 8, 21, 5, 18, 48, tzinfo=UTC),
            None,
        ),
        (
            "15-openssl-version-a-outputs/arulraj-upgrade-openssl-in-ubuntu-and-centos.rst@f2960248",
            "1.0.1",
            datetime.datetime(2014, 1, 8, 20, 45, 51, tzinfo=UTC),
            None,
        ),
        (
            "15-openssl-version-a-outputs/fens.me-nodejs-https-server-EXCERPT-openssl-version-a.txt",
            "1.0.1",
            datetime.datetime(2013, 6, 4, 7, 26, 6, tzinfo=UTC),
            "debian-amd64",
        ),
        (
            "15-openssl-version-a-outputs/ubuntuforums-SSL-question-2014-04-19.md",
            "1.0.1",
            datetime.datetime(2014, 4, 7, 20, 33, 29, tzinfo=UTC),
            "debian-amd64",
        ),
        (
            "03-blog-marcoguerri-wheezy-heartbleed/2014-08-23-heartbleed.markdown@648877b4",
            "1.0.1e",
            datetime.datetime(2015, 1, 8, 21, 47, 50, tzinfo=UTC),
            "debian-i386-i686/cmov",
        ),
    ],
)
def test_saved_outputs(
    path: str, version: str, built: datetime.datetime, platform: str | None
) -> None:
    text = (DATA / path).read_text()
    parsed = parse_openssl_version(text, path)
    assert parsed is not None
    assert (parsed.version, parsed.built_on, parsed.platform) == (version, built, platform)
    assert parsed.library_version is None  # 1.0.x does not print it
    assert parsed.effective_version == version
    assert text.splitlines()[parsed.line - 1].strip().startswith(f"OpenSSL {version}")
    assert parsed.built_before(datetime.date(2014, 4, 7)) is (
        built.date() < datetime.date(2014, 4, 7)
    )


def test_the_ballestrini_post_before_and_after() -> None:
    """The same post shows the vulnerable and then the fixed build date: the first block is read."""
    text = (
        DATA
        / "15-openssl-version-a-outputs/2014-04-08-how-to-patch-heartbleed-openssl-defect-libssl-on-ubuntu.rst"
    ).read_text()
    first = parse_openssl_version(text)
    assert first is not None and first.built_on_text == "Tue Aug 21 05:18:48 UTC 2012"
    after = text.split("Notice the patched")[1]
    second = parse_openssl_version(after)
    assert second is not None and second.built_on_text == "Mon Apr  7 20:33:29 UTC 2014"
    assert second.built_before(datetime.date(2014, 4, 7)) is False


def test_live_output_matches_openssl_version() -> None:
    tool = shutil.which("openssl")
    if tool is None:
        pytest.skip("no openssl command on this machine")
    first = subprocess.run([tool, "version"], capture_output=True, text=True, check=True).stdout
    parsed = live_openssl_version()
    assert parsed is not None
    assert first.split()[1] == parsed.version
    if "Library:" in first:
        assert parsed.library_version == first.split("Library:")[1].split()[1]
    full = subprocess.run(
        [tool, "version", "-a"], capture_output=True, text=True, check=True
    ).stdout
    built = [line for line in full.splitlines() if line.startswith("built on:")]
    assert parsed.built_on_text == built[0].split(":", 1)[1].strip()
    if "reproducible" not in built[0]:
        assert parsed.built_on is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon Apr  7 20:33:29 UTC 2014", datetime.datetime(2014, 4, 7, 20, 33, 29, tzinfo=UTC)),
        ("Wed Oct 21 09:54:24 2026 UTC", datetime.datetime(2026, 10, 21, 9, 54, 24, tzinfo=UTC)),
        ("reproducible build, date unspecified", None),
        ("Mon Foo  7 20:33:29 UTC 2014", None),
        ("Mon Apr 31 20:33:29 UTC 2014", None),
    ],
)
def test_built_on_formats(text: str, expected: datetime.datetime | None) -> None:
    assert parse_built_on(text) == expected


def test_no_version_line(tmp_path: Path) -> None:
    assert parse_openssl_version("built on: Mon Apr  7 20:33:29 UTC 2014\n") is None
    assert parse_openssl_version("") is None
