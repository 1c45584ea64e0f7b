"""Hypothesis strategies for the input formats depgraph parses, as the bytes of a file.

Each format strategy builds documents from the format's own grammar (fields, headings, table
rows) mixed with the things broken, old, minimised or hostile machines produce: junk lines, long
runs of one character, digit strings past Python's int limit, Latin-1 and invalid UTF-8, NUL and
byte-order marks, CRLF, truncation and (for files that may be compressed) gzip, whole or cut.
Grammar pieces keep the parsers busy past their first line; the mutations find the edges.
"""

from __future__ import annotations

import gzip
import json

from hypothesis import strategies as st

# Characters that mean something to one of the formats, plus a few that break naive code:
# Unicode digits (int() and str.isdigit() disagree), a lone combining mark, a BOM, NUL.
_SPECIAL = " \t\n\r:|,()[]<>=~+-._!#*;/\"'\\$%{}@"
_ODD = "\x00\ufeff\u0660\u00b2\u0301\u2028\x85\x0c\x0b\u00e9\u6f22"
_ALPHABET = st.sampled_from(
    [*list(_SPECIAL + _ODD + "abcdefxyzABCDEFXYZ0123456789"), "\n", "\n", " ", " "]
)

junk = st.text(_ALPHABET, max_size=40)
"""Short text made of the characters the formats care about."""

word = st.text(
    st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789+.-")), min_size=1, max_size=12
)


@st.composite
def long_run(draw: st.DrawFn) -> str:
    """A long run of one or two characters (blanks, pipes, digits): where regexes go quadratic."""
    piece = draw(
        st.sampled_from(
            [" ", "\t", "|", "9", "a", "(", ":", ", ", " |", "0", "-", "~", "[", "{", "a."]
        )
    )
    return piece * draw(st.integers(50, 3000))


huge_number = st.integers(4301, 6000).map(lambda n: "1" * n)
"""Decimal digits past CPython's ``int()`` limit of 4300 digits: a ValueError nobody expects."""

number = st.one_of(
    st.integers(0, 70000).map(str),
    st.integers(-5, 2**70).map(str),
    st.just("\u0663\u0664"),  # Arabic-Indic digits: isdigit() is true, int() accepts them
    st.just("\u00b2"),  # superscript two: isdigit() is true, int() refuses it
    huge_number,
)
hexword = st.one_of(
    st.text(st.sampled_from(list("0123456789ABCDEFabcdef")), min_size=0, max_size=40),
    st.just("-1"),
    st.just("FFFFFFFFFF"),
    st.just("0x1F"),
)

names = st.one_of(
    st.sampled_from(
        [
            "libssl1.0.0",
            "libssl3",
            "openssl",
            "libc6",
            "apache2",
            "nginx",
            "liblzma5",
            "openssh-server",
            "libssl1.0.0:amd64",
            "lib++",
        ]
    ),
    word,
)
versions = st.one_of(
    st.sampled_from(
        [
            "1.0.1e-2+deb7u5",
            "1.0.1-4ubuntu5.12",
            "1:2.4.7-1",
            "3.0.11-1~deb12u2",
            "1.0.1f",
            "0",
            "1.0~rc1",
            "2:1.0-",
            "1:",
            "-1",
            "a:b",
            "1.0-1-1",
        ]
    ),
    st.text(st.sampled_from(list("0123456789:.-+~abcAZ_ ")), min_size=0, max_size=20),
    huge_number.map(lambda digits: digits + ":1.0"),
)
operators = st.sampled_from(["<<", "<=", "=", ">=", ">>", "<", ">", "", "=<", "!"])


@st.composite
def relation(draw: st.DrawFn) -> str:
    """One alternative of a relationship field, sometimes broken."""
    text = draw(names)
    if draw(st.booleans()):
        text += ":" + draw(st.sampled_from(["any", "native", "amd64", "", "a:b"]))
    if draw(st.booleans()):
        text += f" ({draw(operators)} {draw(versions)})"
    if draw(st.integers(0, 4)) == 0:
        text += " [" + draw(st.sampled_from(["amd64", "!i386 amd64", "", "]"])) + "]"
    if draw(st.integers(0, 4)) == 0:
        text += " <" + draw(st.sampled_from(["!nocheck", "", "stage1 !cross"])) + ">"
    if draw(st.integers(0, 6)) == 0:
        text = draw(st.sampled_from([" ", "  ", "\t"])) + text + draw(junk)
    return text


@st.composite
def relation_field(draw: st.DrawFn) -> str:
    """A whole ``Depends``-like field: comma-separated OR-groups."""
    groups = draw(
        st.lists(
            st.lists(relation(), min_size=1, max_size=4).map(" | ".join), min_size=0, max_size=6
        )
    )
    text = draw(st.sampled_from([", ", ",", " , ", ",\n "])).join(groups)
    if draw(st.integers(0, 8)) == 0:
        text += draw(st.one_of(long_run(), junk))
    return text


# deb822 (dpkg status, Packages indexes)

_STATUS = st.one_of(
    st.sampled_from(
        [
            "install ok installed",
            "deinstall ok config-files",
            "purge ok not-installed",
            "install reinstreq half-installed",
            "hold ok installed",
            "install ok",
            "install ok installed extra",
            "",
        ]
    ),
    junk,
)

_FIELD_VALUES = {
    "Package": names,
    "Version": versions,
    "Status": _STATUS,
    "Architecture": st.sampled_from(["amd64", "all", "i386", ""]),
    "Depends": relation_field(),
    "Pre-Depends": relation_field(),
    "Recommends": relation_field(),
    "Breaks": relation_field(),
    "Provides": relation_field(),
    "Source": st.one_of(names, names.map(lambda n: f"{n} (1.0-1)")),
    "Essential": st.sampled_from(["yes", "no", "YES", ""]),
    "Multi-Arch": st.sampled_from(["same", "foreign", "allowed"]),
    "Section": st.sampled_from(["libs", "net", "admin"]),
    "Description": junk,
    "X-Junk": junk,
}


@st.composite
def deb822_paragraph(draw: st.DrawFn) -> str:
    """A paragraph: usually Package, Version and Status first, then anything."""
    keys = ["Package", "Version", "Status"] if draw(st.integers(0, 4)) else []
    keys += draw(st.lists(st.sampled_from(sorted(_FIELD_VALUES)), max_size=6))
    lines = []
    for key in keys:
        value = draw(_FIELD_VALUES[key])
        separator = (
            draw(st.sampled_from([": ", ":", ":  ", " : "]))
            if draw(st.integers(0, 9)) == 0
            else ": "
        )
        lines.append(f"{key}{separator}{value}")
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from([" ", "\t", " ."])) + draw(junk))
    if draw(st.integers(0, 6)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.one_of(junk, long_run())))
    return "\n".join(lines)


@st.composite
def deb822(draw: st.DrawFn) -> bytes:
    paragraphs = draw(st.lists(deb822_paragraph(), max_size=5))
    text = draw(st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n\t\n"])).join(paragraphs)
    return draw(mutated(st.just(text.encode("utf-8", "surrogatepass")), compress=True))


# dpkg -l

_DPKG_L_HEADER = (
    "Desired=Unknown/Install/Remove/Purge/Hold\n"
    "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n"
    "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n"
)


@st.composite
def dpkg_list(draw: st.DrawFn) -> bytes:
    arch = draw(st.booleans())
    widths = draw(st.lists(st.integers(0, 40), min_size=0, max_size=5))
    header = (
        "||/ Name           Version      Architecture Description"
        if arch
        else "||/ Name Version Description"
    )
    ruler = "+++-" + "-".join("=" * width for width in widths)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        flags = draw(st.text(st.sampled_from(list("uihrpncHUFWtiRxX ?")), min_size=0, max_size=3))
        parts = [flags, draw(names), draw(st.one_of(versions, st.just("<none>")))]
        if arch:
            parts.append(draw(st.sampled_from(["amd64", "all", ""])))
        parts.append(draw(junk))
        rows.append(draw(st.sampled_from([" ", "  ", "\t"])).join(parts))
        if draw(st.integers(0, 8)) == 0:
            rows.append(draw(st.one_of(junk, long_run())))
    lines = (
        [_DPKG_L_HEADER + header, ruler, *rows] if draw(st.integers(0, 5)) else [draw(junk), *rows]
    )
    return draw(mutated(st.just("\n".join(lines).encode()), compress=True))


# apt-cache rdepends


@st.composite
def rdepends(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append(draw(names))
        if draw(st.integers(0, 5)):
            lines.append(
                draw(st.sampled_from(["Reverse Depends:", "  Reverse Depends:", "Depends:"]))
            )
        for _ in range(draw(st.integers(0, 5))):
            lines.append(draw(st.sampled_from(["  ", " |", "  |", "\t"])) + draw(names))
        if draw(st.integers(0, 6)) == 0:
            lines.append(draw(st.one_of(junk, long_run())))
    return draw(mutated(st.just("\n".join(lines).encode()), compress=True))


# Debian changelogs and OpenSSL's upstream CHANGES

_DATES = st.one_of(
    st.sampled_from(
        [
            "Mon, 07 Apr 2014 22:26:55 +0200",
            "Tue, 8 Apr 2014 10:00:00 +0000",
            "Mon, 07 Apr 2014 22:26:55",
            "07 Apr 2014",
            "Mon, 99 Foo 2014 99:99:99 +9999",
            "Mon, 07 Apr 99999999 22:26:55 +0200",
            "",
        ]
    ),
    junk,
)
_CVES = st.one_of(
    st.sampled_from(["CVE-2014-0160", "cve-2014-0224", "CVE-2014-01", "CVE-9999-99999999"]),
    huge_number.map(lambda digits: "CVE-2014-" + digits),
)


@st.composite
def changelog_entry(draw: st.DrawFn) -> str:
    heading = (
        f"{draw(names)} ({draw(versions)}) {draw(st.sampled_from(['unstable', 'wheezy-security', '', 'UNRELEASED']))}"
        f"; urgency={draw(st.sampled_from(['low', 'high', 'medium', '', 'x']))}"
    )
    lines = [heading, ""]
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"  * {draw(junk)} {draw(_CVES)} {draw(junk)}")
    lines.append("")
    trailer = draw(
        st.sampled_from(
            [" -- {who}  {date}", " -- {who} {date}", " --{who}  {date}", " -- {date}", "--{who}"]
        )
    )
    who = draw(st.sampled_from(["Kurt Roeckx <kurt@roeckx.be>", "Name <>", "<a@b>", "", "x <y"]))
    lines.append(trailer.format(who=who, date=draw(_DATES)))
    if draw(st.integers(0, 6)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.one_of(junk, long_run())))
    return "\n".join(lines)


@st.composite
def changelog(draw: st.DrawFn) -> bytes:
    entries = draw(st.lists(changelog_entry(), max_size=4))
    if draw(st.integers(0, 4)) == 0:
        entries.append(
            draw(
                st.sampled_from(
                    [
                        "# Older entries have been removed from this changelog.",
                        "# For older changelog entries, run 'apt-get changelog openssl'",
                        "# vim: set ft=debchangelog:",
                        "Old Changelog:",
                    ]
                )
            )
        )
    text = "\n\n".join(entries)
    return draw(mutated(st.just(text.encode()), compress=True, latin1=True))


@st.composite
def upstream_changes(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        old, new = (
            draw(versions),
            draw(st.one_of(versions, st.just("1.0.2-beta1"), st.just("3.0.7:"))),
        )
        style = draw(
            st.sampled_from(
                [
                    " Changes between {old} and {new}  [{date}]",
                    "### Changes between {old} and {new} [{date}]",
                    "Changes between {old} and {new}",
                    "# Changes between {old} and{new}",
                ]
            )
        )
        lines.append(style.format(old=old, new=new, date=draw(_DATES)))
        for _ in range(draw(st.integers(0, 3))):
            lines.append(f"  *) {draw(junk)} ({draw(_CVES)})")
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"[{draw(_CVES)}]: https://www.openssl.org/news/vulnerabilities.html")
    if draw(st.integers(0, 6)) == 0:
        lines.append(draw(st.one_of(junk, long_run())))
    return draw(mutated(st.just("\n".join(lines).encode()), compress=True, latin1=True))


# /proc files

_MAP_PATHS = st.one_of(
    st.sampled_from(
        [
            "/usr/lib/x86_64-linux-gnu/libssl.so.1.0.0",
            "/lib/x86_64-linux-gnu/libcrypto.so.1.0.0 (deleted)",
            "(deleted)/usr/lib/libssl.so.1.0.0",
            "/usr/lib/libssl.so.1.0.0;53b2 (deleted)",
            "/dev/zero (deleted)",
            "/SYSV00000000 (deleted)",
            "[heap]",
            "",
            "libssl.so.1.0.0",
        ]
    ),
    junk.map(lambda text: "/usr/lib/libssl.so.1.0.0" + text),
)


@st.composite
def maps_line(draw: st.DrawFn) -> str:
    prefix = draw(
        st.sampled_from(
            ["", "", "/proc/{pid}/maps:", "{pid}:", "./proc/{pid}/maps:", "proc/{pid}/maps:"]
        )
    ).format(pid=draw(number))
    address = f"{draw(hexword)}-{draw(hexword)}"
    perms = draw(st.sampled_from(["r-xp", "rw-p", "---p", "r--s", ""]))
    device = draw(st.sampled_from(["08:01", "fd:00", "00:00", "zz:1", "8", ":"]))
    fields = [address, perms, draw(hexword), device, draw(number), draw(_MAP_PATHS)]
    return prefix + draw(st.sampled_from([" ", "  ", "\t"])).join(fields)


@st.composite
def maps(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(maps_line(), maps_line(), junk), max_size=8))
    return draw(mutated(st.just("\n".join(lines).encode())))


_NET_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"


@st.composite
def net_row(draw: st.DrawFn) -> str:
    six = draw(st.booleans())
    address = st.one_of(
        st.just("00000000000000000000000000000000" if six else "00000000"),
        st.just("0000000000000000FFFF00000100007F" if six else "0100007F"),
        hexword,
    )
    local = f"{draw(address)}:{draw(hexword)}"
    remote = f"{draw(address)}:{draw(hexword)}"
    state = draw(st.sampled_from(["0A", "07", "01", "", "0a"]))
    rest = ["00000000:00000000", "00:00000000", "00000000", draw(number), "0", draw(number)]
    return " ".join([f"{draw(number)}:", local, remote, state, *rest, draw(junk)])


@st.composite
def net_table(draw: st.DrawFn) -> bytes:
    lines = [_NET_HEADER, *draw(st.lists(st.one_of(net_row(), net_row(), junk), max_size=6))]
    return draw(mutated(st.just("\n".join(lines).encode())))


_CGROUP_PATHS = st.sampled_from(
    [
        "/system.slice/nginx.service",
        "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service",
        "/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "/system.slice/docker-0123456789ab.scope",
        "/machine.slice/libpod-0123456789abcdef.scope",
        "/kubepods/burstable/pod01234567-89ab-cdef-0123-456789abcdef/0123",
        "/lxc/web",
        "/lxc.payload.web",
        "/machine.slice/systemd-nspawn@box.service",
        "/",
        "",
    ]
)


@st.composite
def cgroup(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        path = draw(_CGROUP_PATHS)
        if draw(st.booleans()):
            path += draw(st.one_of(junk, long_run(), st.just("/kubepods" * 50)))
        ident = draw(st.sampled_from(["0", "1", "12", "x", ""]))
        controllers = draw(st.sampled_from(["", "name=systemd", "cpu,cpuacct", "memory"]))
        lines.append(f"{ident}:{controllers}:{path}")
    return draw(mutated(st.just("\n".join(lines).encode())))


# Release files, openssl version -a, profiles, snapshot manifests

FILE_SEPARATOR = b"\n--8<--\n"
"""Joins the files of a multi-file input (os-release, lsb-release, debian_version) into one blob."""


@st.composite
def key_values(draw: st.DrawFn, keys: list[str]) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 7))):
        key = draw(st.one_of(st.sampled_from(keys), junk))
        value = draw(
            st.one_of(
                st.sampled_from(
                    ["debian", "ubuntu", "wheezy", "14.04", "7 (wheezy)", "14.04, Trusty Tahr", ""]
                ),
                versions,
                junk,
            )
        )
        quote = draw(st.sampled_from(["", '"', "'", '"unterminated']))
        closing = quote if quote in ('"', "'") else ""
        lines.append(f"{key}={quote}{value}{closing}")
    return "\n".join(lines)


@st.composite
def release_files(draw: st.DrawFn) -> bytes:
    os_release = draw(
        key_values(["ID", "ID_LIKE", "VERSION_ID", "VERSION_CODENAME", "VERSION", "PRETTY_NAME"])
    )
    lsb = draw(
        key_values(["DISTRIB_ID", "DISTRIB_RELEASE", "DISTRIB_CODENAME", "DISTRIB_DESCRIPTION"])
    )
    debian_version = draw(
        st.one_of(st.sampled_from(["7.6", "wheezy/sid", "12", "", "/", "1e9"]), versions, junk)
    )
    parts = [os_release.encode(), lsb.encode(), debian_version.encode()]
    return draw(mutated(st.just(FILE_SEPARATOR.join(parts))))


@st.composite
def openssl_version(draw: st.DrawFn) -> bytes:
    first = draw(
        st.sampled_from(
            [
                "OpenSSL 1.0.1 14 Mar 2012",
                "OpenSSL 3.0.11 19 Sep 2023 (Library: OpenSSL 3.0.11 19 Sep 2023)",
                "LibreSSL 2.8.3",
                "$ OpenSSL 1.0.1e-fips 11 Feb 2013",
                "OpenSSL",
            ]
        )
    )
    built = draw(
        st.one_of(
            st.sampled_from(
                [
                    "built on: Mon Apr  7 20:33:29 UTC 2014",
                    "built on: Wed Oct 21 09:54:24 2026 UTC",
                    "built on: reproducible build, date unspecified",
                    "built on: Feb 30 99:99:99 UTC 2014",
                    "built on: Foo 1 00:00:00 0000",
                    "built on: Jan 0 0:00:00 9999",
                ]
            ),
            junk.map(lambda text: "built on: " + text),
        )
    )
    others = [
        "platform: debian-amd64",
        'OPENSSLDIR: "/usr/lib/ssl"',
        "options:  bn(64,64)",
        "compiler: gcc",
    ]
    lines = [draw(junk), first, *draw(st.permutations([built, *others])), draw(junk)]
    return draw(mutated(st.just("\n".join(lines).encode())))


_TOML_VALUES = st.one_of(
    st.sampled_from(
        [
            '"heartbleed"',
            '"1.0.1g"',
            '"CVE-2014-0160"',
            '"libssl"',
            "2014-04-07",
            "1",
            "true",
            '""',
            "[]",
            '"1.0.1"',
            '"a\\u001b[2Jb"',
            '["LibSSL 1.0.0", "../../etc/passwd"]',
        ]
    ),
    st.sampled_from(
        ['["libssl1.0.0"]', '["CVE-2014-0160", "cve-2014-0224"]', "[1, 2]", '["x"]', "{a = 1}"]
    ),
    versions.map(json.dumps),
    junk.map(json.dumps),
)
_TOML_KEYS = [
    "id", "title", "cves", "libraries", "component", "source_package", "disclosed", "references",
    "upstream_changes", "introduced", "fixed", "last_affected", "version", "distribution",
    "release", "source", "step", "text", "package", "via", "why",
    "componnet", "fixd", '"\\u001b[2J"',
]  # fmt: skip


@st.composite
def profile(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            lines.append(
                f"[[{draw(st.sampled_from(['affected', 'fixed', 'remediation', 'exposure', 'id']))}]]"
            )
        elif choice == 1:
            lines.append(draw(junk))
        else:
            lines.append(f"{draw(st.sampled_from(_TOML_KEYS))} = {draw(_TOML_VALUES)}")
    return draw(mutated(st.just("\n".join(lines).encode())))


_JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    junk,
    st.just("depgraph-snapshot/1"),
)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(junk, inner, max_size=4)),
    max_leaves=6,
)


@st.composite
def manifest(draw: st.DrawFn) -> bytes:
    keys = ["format", "host", "time", "kernel", "collector", "libraries", "captured", "missing"]
    value = {key: draw(_JSON) for key in draw(st.lists(st.sampled_from(keys), unique=True))}
    if draw(st.integers(0, 3)):
        value["format"] = "depgraph-snapshot/1"
    if draw(st.booleans()):
        value["missing"] = draw(
            st.lists(st.dictionaries(st.sampled_from(["what", "why"]), _JSON), max_size=3)
        )
    text = json.dumps(value) if draw(st.integers(0, 5)) else draw(junk)
    return draw(mutated(st.just(text.encode())))


@st.composite
def version_triple(draw: st.DrawFn) -> bytes:
    """Three versions, one a line: compared with each other for order properties."""
    return "\n".join(draw(st.lists(versions, min_size=3, max_size=3))).encode()


# Byte-level mutations shared by every format


@st.composite
def mutated(
    draw: st.DrawFn,
    document: st.SearchStrategy[bytes],
    *,
    compress: bool = False,
    latin1: bool = False,
) -> bytes:
    """``document`` as it is, or damaged the way files on real machines are."""
    data = draw(document)
    for _ in range(draw(st.integers(0, 2))):
        operation = draw(st.integers(0, 9))
        at = draw(st.integers(0, len(data)))
        if operation == 0:
            data = data[:at]
        elif operation == 1:
            data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
        elif operation == 2:
            data = data.replace(b"\n", b"\r\n")
        elif operation == 3:
            data = b"\xef\xbb\xbf" + data
        elif operation == 4 and latin1:
            data = data[:at] + "Rö\xe9ckx".encode("latin-1") + data[at:]
        elif operation == 5:
            data = data[:at] + draw(long_run()).encode() + data[at:]
        elif operation == 6:
            data = data[:at] + data[at : at + 200] * draw(st.integers(2, 20)) + data[at:]
    if compress and draw(st.integers(0, 6)) == 0:
        packed = gzip.compress(data, mtime=0)
        data = packed[: draw(st.integers(0, len(packed)))] if draw(st.booleans()) else packed
    return data


# compressed inputs (depgraph.sources.files): members of every format, concatenated, cut, padded


@st.composite
def compressed(draw: st.DrawFn) -> bytes:
    """Concatenated gzip, bzip2, xz or lz4 members (the formats apt's lists and changelogs use),
    possibly empty, mixed with NUL padding, garbage, truncation and flipped bytes."""
    import bz2
    import lzma

    import lz4.frame

    compressors = {
        "gzip": lambda data: gzip.compress(data, mtime=0),
        "bzip2": bz2.compress,
        "xz": lzma.compress,
        "lz4": lz4.frame.compress,
    }
    name = draw(st.sampled_from(sorted(compressors)))
    pack = compressors[name]
    text = draw(st.one_of(deb822(), st.binary(max_size=200)))
    members = [pack(draw(st.sampled_from([text, b"", text[: len(text) // 2]])))]
    for _ in range(draw(st.integers(0, 4))):
        members.append(draw(st.sampled_from([b"\0\0\0\0", b"", pack(b""), pack(text)])))
    data = b"".join(members)
    operation = draw(st.integers(0, 5))
    at = draw(st.integers(0, len(data)))
    if operation == 0:
        data = data[:at]
    elif operation == 1 and data:
        flip = draw(st.integers(0, 255))
        data = data[: at - 1] + bytes([data[at - 1] ^ flip]) + data[at:] if at else data
    elif operation == 2:
        data += draw(st.binary(max_size=16))
    elif operation == 3:
        data = data[:at] + draw(st.sampled_from([b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"])) + data[at:]
    return data


@st.composite
def file_list(draw: st.DrawFn) -> bytes:
    """A dpkg ``.list``: one absolute path a line (dpkg(1) "FILES"), with the libraries a restart
    looks for, odd names, junk, very long lines, CRLF, NUL and compression."""
    paths = st.one_of(
        st.sampled_from(
            [
                "/.",
                "/usr",
                "/lib/x86_64-linux-gnu/libssl.so.1.0.0",
                "/usr/lib/x86_64-linux-gnu/engines-1.1/afalg.so",
                "/usr/share/doc/libssl1.0.0/changelog.Debian.gz",
                "/lib/systemd/system/nginx.service",
                "/etc/init.d/apache2",
            ]
        ),
        word.map(lambda name: f"/usr/lib/{name}.so.{len(name)}"),
        junk,
        long_run(),
    )
    lines = draw(st.lists(paths, max_size=30))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n"]))
    return draw(mutated(st.just(text.encode("utf-8", "surrogatepass")), compress=True))


# Snapshots (``depgraph collect``): the tarball, and its saved /proc


@st.composite
def snapshot_tar(draw: st.DrawFn) -> bytes:
    """A real tar archive (manifest, a status file, a saved process), its bytes mutated: cut
    short (no end-of-archive blocks, a member's data cut), bytes flipped, a size made negative.
    The target gzip-compresses it, as ``depgraph collect`` writes it."""
    import io
    import tarfile

    members = {
        "depgraph-snapshot/manifest.json": draw(manifest()),
        "var/lib/dpkg/status": draw(deb822()),
        "depgraph-snapshot/proc/7/maps": draw(maps()),
    }
    buffer = io.BytesIO()
    form = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]))
    with tarfile.open(fileobj=buffer, mode="w", format=form) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    whole = buffer.getvalue()
    cut = draw(st.sampled_from(["whole", "end", "inside", "mutate"]))
    if cut == "end":
        return whole.rstrip(b"\0")
    if cut == "inside":
        return whole[: draw(st.integers(0, len(whole)))]
    if cut == "mutate":
        return draw(mutated(st.just(whole)))
    return whole


SAVED_PROC_FILES = ("btime", "clk_tck", "scanned", "unreadable", "maps", "stat", "exe", "files")
"""The files of a saved /proc the ``saved-proc`` target writes, in the order of its blob."""


@st.composite
def saved_proc(draw: st.DrawFn) -> bytes:
    """A saved /proc (``depgraph-snapshot/proc``) of one process: its files joined by
    :data:`FILE_SEPARATOR`, any left out (a collection cut short) or hostile (a 4,000-digit
    btime)."""
    number = st.one_of(
        st.integers(-(10**30), 10**30).map(str), st.just("9" * 4000), st.just("\u00b2"), junk
    )
    stat = st.one_of(
        st.builds(lambda start: f"7 (nginx) S {'0 ' * 18}{start} 0 0\n", number),
        st.builds(
            lambda fields: f"7 (nginx) S {' '.join(fields)}\n",
            st.lists(st.one_of(number, st.just("0")), max_size=24),
        ),
    )
    line = "7f00-7f01 r-xp 00000000 08:01 42 /usr/lib/libssl.so.1.0.0"
    mapped = st.one_of(
        st.sampled_from([f"{line} (deleted)\n", f"3:{line}\n"]),
        maps().map(lambda data: data.decode("utf-8", "surrogateescape")),
    )
    parts = [
        draw(number),
        draw(number),
        draw(number),
        draw(st.builds(lambda a, b: f"{a} {b}\n", number, junk)),
        draw(mapped),
        draw(stat),
        draw(st.sampled_from(["/usr/sbin/nginx", "/usr/sbin/nginx (deleted)", ""])),
        draw(
            st.builds(
                lambda d, i, m: f"{d} {i} {m} /usr/lib/libssl.so.1.0.0\n", number, number, number
            )
        ),
    ]
    blob = [
        part.encode("utf-8", "surrogateescape") if draw(st.integers(0, 4)) else b"\0MISSING"
        for part in parts
    ]
    return FILE_SEPARATOR.join(blob)
