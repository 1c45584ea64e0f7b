"""``openssl version -a`` output, live or saved (openssl-version(1)).

The first line names the version (``OpenSSL 1.0.1 14 Mar 2012``; OpenSSL 3 adds ``(Library: OpenSSL
3.0.22 25 Aug 2026)``, the libcrypto actually loaded). ``built on:`` is the build date compiled into
libcrypto, so after ``apt-get install libssl1.0.0`` it changes even when the ``openssl`` package does
not (see ../shared/data/heartbleed/15-*). Its formats vary: ``Mon Apr  7 20:33:29 UTC 2014`` (1.0.x,
``date`` output), ``Wed Oct 21 09:54:24 2026 UTC`` (3.x) or ``reproducible build, date unspecified``.
A build date on or after a fix date is weak evidence of the fix (a rebuild is not a fix); it never
decides a library's state alone.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from dataclasses import dataclass

_FIRST = re.compile(
    r"^(?P<name>OpenSSL|LibreSSL)\s+(?P<version>\S+)(?:\s+(?P<date>\d{1,2} \w{3} \d{4}))?"
    r"(?:.*\(Library:\s*\S+\s+(?P<library>\S+))?"
)
_BUILT_ON = re.compile(r"^built on:\s*(?P<text>.*?)\s*$", re.IGNORECASE)
_KEY = re.compile(
    r"^(?P<key>platform|options|compiler|OPENSSLDIR|ENGINESDIR|MODULESDIR):\s*(?P<value>.*)$"
)
_MONTHS = {
    month: number
    for number, month in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DATE_WORDS = re.compile(
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<time>\d{1,2}:\d{2}:\d{2})"
    r"(?:\s+[A-Z]{2,5})?\s+(?P<year>\d{4})"
)


@dataclass(frozen=True, slots=True)
class OpensslVersion:
    """What ``openssl version -a`` said, and the line each fact came from."""

    version: str
    library_version: str | None
    release_date: str | None
    built_on_text: str | None
    built_on: datetime.datetime | None
    platform: str | None
    openssldir: str | None
    where: str
    line: int = 1

    @property
    def effective_version(self) -> str:
        """The libcrypto that was loaded (OpenSSL 3 says so), else the tool's own version."""
        return self.library_version or self.version

    def built_before(self, day: datetime.date) -> bool | None:
        """True/False when the build date is known, None when it is not (reproducible builds)."""
        if self.built_on is None:
            return None
        return self.built_on.date() < day


def parse_built_on(text: str) -> datetime.datetime | None:
    """``Mon Apr  7 20:33:29 UTC 2014`` or ``Wed Oct 21 09:54:24 2026 UTC`` as UTC; None if absent."""
    match = _DATE_WORDS.search(text)
    if match is None:
        return None
    month = _MONTHS.get(match.group("month").lower())
    if month is None:
        return None
    hour, minute, second = (int(part) for part in match.group("time").split(":"))
    try:
        return datetime.datetime(
            int(match.group("year")),
            month,
            int(match.group("day")),
            hour,
            minute,
            second,
            tzinfo=datetime.UTC,
        )
    except ValueError:
        return None


def parse_openssl_version(text: str, where: str = "openssl version -a") -> OpensslVersion | None:
    """The first ``openssl version -a`` block in ``text`` (a saved output, a pasted blog post, ...).

    Lines may be indented or prefixed (``$`` prompts, Markdown quoting) as in pasted outputs; None
    when no ``OpenSSL x.y.z`` line is found.
    """
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        first = _FIRST.match(raw.strip())
        if first is None:
            continue
        built_text: str | None = None
        values: dict[str, str] = {}
        for following in lines[number : number + 12]:
            stripped = following.strip()
            built = _BUILT_ON.match(stripped)
            if built is not None:
                built_text = built.group("text")
                continue
            key = _KEY.match(stripped)
            if key is not None:
                values[key.group("key")] = key.group("value").strip().strip('"')
                continue
            if _FIRST.match(stripped) or not stripped:
                break
        return OpensslVersion(
            version=first.group("version"),
            library_version=first.group("library"),
            release_date=first.group("date"),
            built_on_text=built_text,
            built_on=parse_built_on(built_text) if built_text else None,
            platform=values.get("platform"),
            openssldir=values.get("OPENSSLDIR"),
            where=where,
            line=number,
        )
    return None


def live_openssl_version() -> OpensslVersion | None:
    """Run ``openssl version -a`` on this machine (only meaningful for the root ``/``)."""
    tool = shutil.which("openssl")
    if tool is None:
        return None
    try:
        done = subprocess.run(
            [tool, "version", "-a"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return parse_openssl_version(done.stdout, f"{tool} version -a")
