"""TLS roles of the real dependents of libssl3 on this machine, from their real ELF files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from depgraph.elf import read_elf
from depgraph.model import Component, Role
from tests.conftest import flag, run_depgraph

# package -> (role, component): what the software's documentation says it does with OpenSSL.
EXPECTED = {
    "openssh-client": ("non-ssl", "libcrypto"),  # OpenSSH uses libcrypto only (no TLS)
    "postgresql-15": ("server", "libssl"),  # the server accepts TLS connections (ssl = on)
    "postgresql-client-15": ("client", "libssl"),  # psql & co. connect through libpq
    # a command-line tool: s_server listens only when run by hand (issue 21)
    "openssl": ("client", "libssl"),
    "curl": ("client", "libssl"),  # through libcurl4, a client library
    "libcurl4": ("client", "libssl"),  # SSL_connect, never SSL_accept
    "libkrb5-3": ("non-ssl", "libcrypto"),  # Kerberos uses libcrypto's ciphers
    "postgresql": ("server", "libssl"),  # a metapackage for postgresql-15
    # Python's ssl module and the cryptography bindings take either side: their user's choice
    "libpython3.11-minimal": ("client", "libssl"),
    "python3-cryptography": ("client", "libssl"),
}


@pytest.fixture(scope="module")
def nodes() -> dict[str, dict[str, object]]:
    run = run_depgraph("graph", "libssl3", "--format", "json")
    assert run.status == 0, run.stderr
    return {n["package"]: n for n in json.loads(run.stdout)["nodes"]}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_role_of_real_dependents(nodes: dict[str, dict[str, object]], package: str) -> None:
    if package not in nodes:
        if flag("CI"):
            pytest.fail(f"{package} is not installed; .ci/run installs it for this test")
        pytest.skip(f"{package} is not installed")
    node = nodes[package]
    assert (node["role"], node["component"]) == EXPECTED[package], node["role_evidence"]
    assert node["role_evidence"], "a verdict without evidence"


def test_server_evidence_names_the_calls(nodes: dict[str, dict[str, object]]) -> None:
    evidence = nodes["postgresql-15"]["role_evidence"]
    assert isinstance(evidence, list)
    details = " ".join(e["detail"] for e in evidence)
    assert "server-side calls" in details and "SSL_accept" in details
    paths = [e["path"] for e in evidence if e["kind"] == "elf-needed"]
    assert any(str(p).endswith("/bin/postgres") for p in paths)


def test_runtimes_and_the_openssl_command_are_not_servers(
    nodes: dict[str, dict[str, object]],
) -> None:
    """Issue 21, on this machine's real files: libpython3.11-minimal's _ssl module imports server-
    and client-side calls, a TLS library for either side; gdb and linux-perf link libpython for
    scripting and inherit no "server"; /usr/bin/openssl is a command-line tool. Each verdict says
    why in its first evidence."""
    wanted = ("libpython3.11-minimal", "gdb", "linux-perf", "openssl")
    missing = [name for name in wanted if name not in nodes]
    if missing:
        if flag("CI"):
            pytest.fail(f"{missing} not installed; .ci/run installs them for this test")
        pytest.skip(f"{missing} not installed")

    def first(name: str) -> dict[str, str]:
        evidence = nodes[name]["role_evidence"]
        assert isinstance(evidence, list) and evidence
        return dict(evidence[0])

    python = first("libpython3.11-minimal")
    assert python["kind"] == "tls-library"
    assert python["path"].endswith(".so") and "/_ssl." in python["path"]
    for linker in ("gdb", "linux-perf"):
        assert nodes[linker]["role"] == "client", nodes[linker]["role_evidence"]
        evidence = first(linker)
        assert evidence["kind"] == "linked-library" and "either side" in evidence["detail"]
    openssl = first("openssl")
    assert (openssl["kind"], openssl["path"]) == ("command-line-tool", "/usr/bin/openssl")
    servers = {name for name, node in nodes.items() if node.get("role") == "server"}
    assert not servers & {"python3", "python3.11", "libpython3.11", "python3-openssl"}


def test_targets_carry_no_role(nodes: dict[str, dict[str, object]]) -> None:
    assert "role" not in nodes["libssl3"]
    assert all(n["role"] in {r.value for r in Role} for n in nodes.values() if n["depth"])
    assert all(n["component"] in {c.value for c in Component} for n in nodes.values() if n["depth"])


def test_saved_list_uses_the_knowledge_base_or_says_unknown() -> None:
    """A saved status file has no files: roles come from the knowledge base, or are unknown."""
    status = Path("/var/lib/dpkg/status")
    run = run_depgraph("graph", "libssl3", "--status", status, "--format", "json")
    found = {n["package"]: n for n in json.loads(run.stdout)["nodes"]}
    ssh = found["openssh-client"]
    assert (ssh["role"], ssh["component"]) == ("non-ssl", "libcrypto")
    assert "no files at hand" in ssh["role_missing"]
    assert [e["kind"] for e in ssh["role_evidence"]] == ["knowledge-base"]
    assert "ELF scan of openssh-client" in ssh["role_evidence"][0]["detail"]
    assert found["curl"]["role"] == "client"  # through libcurl4, known without files
    unknown = [n for n in found.values() if n.get("role") == "unknown"]
    assert unknown and all("no files at hand" in n["role_missing"] for n in unknown)


def test_knowledge_base_on_a_2014_system() -> None:
    """Ubuntu 12.04's OpenSSH 5.9 is judged by the entry an ELF scan of OpenSSH 9.2 established."""
    from depgraph import knowledge

    status = Path(__file__).parent.parent / "fixtures/heartbleed/ubuntu-12.04.3-armhf/root"
    run = run_depgraph(
        "graph", "libssl1.0.0", "--status", status / "var/lib/dpkg/status", "--format", "json"
    )
    found = {n["package"]: n for n in json.loads(run.stdout)["nodes"]}
    assert found["openssh-client"]["role"] == "non-ssl"
    assert knowledge.generalize("postgresql-15") == "postgresql-*"
    entry = knowledge.lookup("postgresql-9.1")
    assert entry is not None and entry.role is Role.SERVER
    client = knowledge.lookup("postgresql-client-9.1")
    assert client is not None and client.role is Role.CLIENT
    assert knowledge.lookup("no-such-package") is None


def test_knowledge_patterns_do_not_cover_other_tls_flavours() -> None:
    """A pattern's ``*`` is a version number (issue 21, 7): ``libcurl*``, established from the
    OpenSSL flavour libcurl4, covers libcurl3 but not the GnuTLS and NSS builds (bookworm's
    libcurl3-gnutls Depends on libgnutls30, libcurl3-nss on libnss3, neither on libssl3), nor
    bookworm's GnuTLS zabbix-agent through zabbix-agent2's entry."""
    from depgraph import knowledge

    for openssl_build in ("libcurl4", "libcurl3"):
        entry = knowledge.lookup(openssl_build)
        assert entry is not None and entry.role is Role.CLIENT, openssl_build
    for other in ("libcurl3-gnutls", "libcurl3-nss", "libcurl4-nss", "zabbix-agent"):
        assert knowledge.lookup(other) is None, other
    entry = knowledge.lookup("libssh2-1")  # the entry "libssh*-*" still covers its versions
    assert entry is not None and entry.pattern == "libssh*-*"
    assert knowledge.lookup("libssh-gcrypt-4") is None  # libgcrypt, not libcrypto


def test_libldap_is_no_openssl_client_library() -> None:
    """Debian's libldap is built with GnuTLS (wheezy's libldap-2.4-2 Depends on libgnutls26, as
    the saved status shows): linking it is not OpenSSL TLS."""
    from depgraph.classify import client_libraries
    from depgraph.debian.deb822 import iter_paragraphs

    status = Path(__file__).parent.parent / "fixtures/heartbleed/debian-7.0-i386/root"
    path = status / "var/lib/dpkg/status"
    text = path.read_text(encoding="utf-8", errors="replace")
    wanted = frozenset({"Package", "Depends"})
    paragraphs = iter_paragraphs(text, str(path), wanted, strict=False, warn=lambda *_: None)
    ldap = next(f for _, f in paragraphs if f.get("Package") == "libldap-2.4-2")
    assert "libgnutls26" in ldap["Depends"] and "libssl" not in ldap["Depends"]
    assert not [name for name in client_libraries() if name.startswith("libldap")]


def test_table_has_a_role_column() -> None:
    run = run_depgraph("graph", "libssl3", "--format", "table")
    header = run.stdout.splitlines()[0].split()
    assert header[:3] == ["package", "version", "role"]
    rows = {line.split()[0]: line.split()[2] for line in run.stdout.splitlines()[2:]}
    assert rows["openssh-client"] == "non-ssl"


def test_bad_elf_files_never_crash(tmp_path: Path) -> None:
    real = Path(shutil.which("openssl") or "/usr/bin/openssl").resolve()
    truncated = tmp_path / "truncated"
    truncated.write_bytes(real.read_bytes()[:3000])
    assert "malformed or truncated" in (read_elf(truncated).problem or "")
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\nexit 0\n")
    assert read_elf(script).problem == "not an ELF file"
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    assert "cannot read" in (read_elf(loop).problem or "")
    foreign = tmp_path / "foreign"
    data = bytearray(real.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    foreign.write_bytes(bytes(data))
    facts = read_elf(foreign)
    assert facts.problem is None and facts.machine == "EM_AARCH64"
    assert "libssl.so.3" in facts.needed
    assert read_elf(tmp_path / "missing").problem.startswith("cannot read")  # type: ignore[union-attr]


def test_role_fields_follow_the_report_schema(nodes: dict[str, dict[str, object]]) -> None:
    """``role`` and ``role_evidence`` have the shapes ``report-v1`` gives them."""
    import jsonschema

    from tests.conftest import SCHEMAS

    report = json.loads((SCHEMAS / "report-v1.schema.json").read_text())
    item = report["properties"]["packages"]["items"]["properties"]
    schema = {
        "$defs": report["$defs"],
        "type": "object",
        "properties": {"role": item["role"], "role_evidence": item["role_evidence"]},
        "required": ["role", "role_evidence"],
    }
    checked = [n for n in nodes.values() if n["depth"]]
    assert checked
    for node in checked:
        jsonschema.validate(node, schema)


def test_units_of_a_common_sibling_count(nodes: dict[str, dict[str, object]]) -> None:
    """postgresql-15 ships no unit; postgresql-common, which it depends on, ships them."""
    if "postgresql-15" not in nodes:
        pytest.skip("postgresql-15 is not installed")  # test_role_of_real_dependents fails in CI
    evidence = nodes["postgresql-15"]["role_evidence"]
    assert isinstance(evidence, list)
    units = [e for e in evidence if e["kind"] == "systemd-unit"]
    assert any(
        e["detail"] == "ships postgresql@.service in its sibling postgresql-common" for e in units
    )
    assert all(str(e["path"]).startswith("/lib/systemd/system/") for e in units)


def test_runtime_signal() -> None:
    """A process that listens on TCP while mapping libssl makes its package a server; one that
    maps libcrypto alone (sshd) does not change its verdict."""
    from depgraph.classify import with_runtime
    from depgraph.model import Component, Evidence, Role, RoleVerdict

    client = RoleVerdict(Role.CLIENT, Component.LIBSSL, 0.9, (Evidence("elf-symbols", "x"),))
    listening = [(42, "0.0.0.0:8443/tcp", "/usr/lib/x86_64-linux-gnu/libssl.so.3")]
    upgraded = with_runtime(client, listening)
    assert (upgraded.role, upgraded.evidence[0].kind) == (Role.SERVER, "listening-socket")
    assert "pid 42 listens on 0.0.0.0:8443/tcp" in upgraded.evidence[0].detail
    sshd = RoleVerdict(Role.NON_SSL, Component.LIBCRYPTO, 0.95, ())
    crypto_only = [(7, "0.0.0.0:22/tcp", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3")]
    assert with_runtime(sshd, crypto_only) is sshd
    assert with_runtime(sshd, listening) is sshd  # libcrypto-only code: no TLS to serve
