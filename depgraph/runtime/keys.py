"""The private keys and certificates TLS servers serve, from their configuration under a root.

A server that ran a vulnerable libssl may have leaked its private key (Heartbleed did): its
certificates must be replaced, and the old ones revoked, if they were issued before the fix was in
place. This finds them in the configuration of the common Debian servers:

=========== ==================================================== =====================================
server      files read                                           directives
=========== ==================================================== =====================================
nginx       ``etc/nginx/nginx.conf`` and its ``include``\\s        ``ssl_certificate[_key]``
apache2     ``etc/apache2/apache2.conf`` and ``Include[Optional]`` ``SSLCertificate{File,KeyFile,ChainFile}``
postfix     ``etc/postfix/main.cf``                              ``smtpd_tls_*cert_file``, ``*key_file``, ``*chain_files``
dovecot     ``etc/dovecot/dovecot.conf`` and ``!include[_try]``    ``ssl_cert = <FILE``, ``ssl_key``, ``ssl_server_*``
haproxy     ``etc/haproxy/haproxy.cfg``                          ``bind ... ssl crt FILE|DIR``, ``crt-list``
stunnel4    ``etc/stunnel/*.conf``                                ``cert =``, ``key =``
openvpn     ``etc/openvpn/{,server/,client/}*.conf``               ``cert``, ``key``, ``pkcs12``, inline ``<cert>``
postgresql  ``etc/postgresql/*/*/postgresql.conf``                ``ssl_cert_file``, ``ssl_key_file``
=========== ==================================================== =====================================

Certificates are read with the ``cryptography`` library (notBefore, SHA-256 fingerprint, subject).
Key files are only looked at for the PEM label that says what they hold: their contents are never
read into a report, printed or logged.
"""

from __future__ import annotations

import enum
import glob
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depgraph.errors import DepgraphError
from depgraph.model import Evidence
from depgraph.rootpath import resolve_in_root, under_root
from depgraph.sources.files import InputError, Kind, read_head

MAX_INCLUDE_DEPTH = 8
MAX_FILE_BYTES = 4 << 20

SERVER_PACKAGES = {
    "nginx": ("nginx", "nginx-core", "nginx-full", "nginx-light", "nginx-extras", "nginx-common"),
    "apache2": ("apache2", "apache2-bin", "apache2-mpm-worker", "apache2-mpm-prefork"),
    "postfix": ("postfix",),
    "dovecot": ("dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-common"),
    "haproxy": ("haproxy",),
    "stunnel4": ("stunnel4", "stunnel"),
    "openvpn": ("openvpn",),
    "postgresql": ("postgresql", "postgresql-common"),
}
"""The packages whose processes run each server (``postgresql-NN`` is matched by prefix)."""


class Material(enum.Enum):
    """What a configured file is for."""

    CERTIFICATE = "certificate"
    PRIVATE_KEY = "private-key"
    CHAIN = "chain"


@dataclass(frozen=True, slots=True)
class Certificate:
    """One certificate in a configured file: never anything secret."""

    subject: str
    not_before: float
    not_after: float
    sha256: str
    serial: str


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A file a server's configuration names: where, what for, and (for certificates) what is in
    it. ``path`` is as the configuration gives it (relative to the audited root's ``/``);
    ``exists`` whether it is there; ``holds_private_key`` whether the file holds a key (a
    combined PEM, a key file); ``problem`` why it could not be read."""

    server: str
    material: Material
    path: str
    exists: bool
    certificates: tuple[Certificate, ...]
    holds_private_key: bool
    evidence: Evidence
    problem: str | None = None

    def issued_before(self, moment: float) -> bool:
        """Some certificate in the file was issued before ``moment`` (so must be replaced)."""
        return any(cert.not_before < moment for cert in self.certificates)


def servers_for(packages: Iterable[str]) -> tuple[str, ...]:
    """The servers among the packages of exposed processes (package names without ``:arch``)."""
    names = {package.partition(":")[0] for package in packages}
    found = []
    for server, owners in SERVER_PACKAGES.items():
        if names.intersection(owners) or (
            server == "postgresql" and any(name.startswith("postgresql-") for name in names)
        ):
            found.append(server)
    return tuple(found)


def _read(path: Path) -> str | None:
    try:
        data = read_head(path, Kind.CONFIG, MAX_FILE_BYTES)
    except DepgraphError:
        return None
    return data.decode("utf-8", "replace")


def _files(root: Path, pattern: str) -> list[tuple[str, Path]]:
    """Files matching a glob (as the tree sees it), each with its real path under ``root``."""
    base = under_root(root, "/")
    real_pattern = str(base / pattern.lstrip("/"))
    found = []
    for match in sorted(glob.glob(real_pattern)):
        inside = "/" + str(Path(match).relative_to(base))
        real = resolve_in_root(root, inside)
        if real is not None and os.path.isfile(real):
            found.append((inside, real))
    return found


Reference = tuple[Material, str, str, int]
"""(what, path as configured, configuration file, line)"""


def _strip(value: str) -> str:
    value = value.strip().rstrip(";").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _walk(
    root: Path,
    pattern: str,
    include: re.Pattern[str],
    relative_to: str,
    seen: set[str],
    depth: int = 0,
) -> Iterator[tuple[str, int, str]]:
    """Lines ``(file, number, line)`` of the files and, recursively, of what they include."""
    if depth > MAX_INCLUDE_DEPTH:
        return
    for inside, real in _files(root, pattern):
        if inside in seen:
            continue
        seen.add(inside)
        text = _read(real)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            match = include.match(stripped)
            if match:
                target = _strip(match.group(1))
                if not target.startswith("/"):
                    target = f"{relative_to}/{target}"
                yield from _walk(root, target, include, relative_to, seen, depth + 1)
                continue
            yield inside, number, stripped


_NO_INCLUDE = re.compile(r"^\0")
"""For formats without an include directive: matches no line."""
_NGINX = re.compile(r"^(ssl_certificate|ssl_certificate_key|ssl_trusted_certificate)\s+(.+?);?$")
_APACHE = re.compile(
    r"^(SSLCertificateFile|SSLCertificateKeyFile|SSLCertificateChainFile)\s+(.+)$", re.I
)
_POSTFIX = re.compile(
    r"^(smtpd?_tls_(?:ec|dc)?cert_file|smtpd?_tls_(?:ec|dc)?key_file|smtpd?_tls_chain_files)\s*=\s*(.*)$"
)
_DOVECOT = re.compile(
    r"^(ssl_cert|ssl_key|ssl_server_cert_file|ssl_server_key_file|ssl_alt_cert|ssl_alt_key)\s*=\s*<?\s*(.+)$"
)
_STUNNEL = re.compile(r"^(cert|key)\s*=\s*(.+)$")
_OPENVPN = re.compile(r"^(cert|key|pkcs12|extra-certs)\s+(.+)$")
_POSTGRES = re.compile(r"^(ssl_cert_file|ssl_key_file)\s*=\s*(.+?)\s*(?:#.*)?$")


def _kind(directive: str) -> Material:
    lowered = directive.lower()
    if "chain" in lowered or "trusted" in lowered or "extra" in lowered:
        return Material.CHAIN
    if "key" in lowered and "pkcs12" not in lowered:
        return Material.PRIVATE_KEY
    return Material.CERTIFICATE


def _references(root: Path, server: str) -> Iterator[Reference]:
    if server == "nginx":
        include = re.compile(r"^include\s+(.+?);?$")
        for file, number, line in _walk(
            root, "/etc/nginx/nginx.conf", include, "/etc/nginx", set()
        ):
            match = _NGINX.match(line)
            if match and not match.group(2).startswith(("$", "data:")):
                yield _kind(match.group(1)), _strip(match.group(2)), file, number
    elif server == "apache2":
        include = re.compile(r"^Include(?:Optional)?\s+(.+)$", re.I)
        for file, number, line in _walk(
            root, "/etc/apache2/apache2.conf", include, "/etc/apache2", set()
        ):
            match = _APACHE.match(line)
            if match:
                yield _kind(match.group(1)), _strip(match.group(2)), file, number
    elif server == "postfix":
        for file, number, line in _walk(
            root, "/etc/postfix/main.cf", _NO_INCLUDE, "/etc/postfix", set()
        ):
            match = _POSTFIX.match(line)
            if match:
                for value in re.split(r"[\s,]+", match.group(2).strip()):
                    if value.startswith("/"):
                        kind = (
                            Material.CHAIN
                            if "chain_files" in match.group(1)
                            else _kind(match.group(1))
                        )
                        yield kind, value, file, number
    elif server == "dovecot":
        include = re.compile(r"^!include(?:_try)?\s+(.+)$")
        for file, number, line in _walk(
            root, "/etc/dovecot/dovecot.conf", include, "/etc/dovecot", set()
        ):
            match = _DOVECOT.match(line)
            if match and match.group(2).strip().startswith("/"):
                yield _kind(match.group(1)), _strip(match.group(2)), file, number
    elif server == "haproxy":
        for file, number, line in _walk(
            root, "/etc/haproxy/haproxy.cfg", _NO_INCLUDE, "/etc/haproxy", set()
        ):
            words = line.split()
            for index, word in enumerate(words[:-1]):
                if word in ("crt", "crt-list") and words[0] in ("bind", "server", "default-server"):
                    yield Material.CERTIFICATE, words[index + 1], file, number
    elif server == "stunnel4":
        for file, number, line in _walk(
            root, "/etc/stunnel/*.conf", _NO_INCLUDE, "/etc/stunnel", set()
        ):
            match = _STUNNEL.match(line)
            if match:
                yield _kind(match.group(1)), _strip(match.group(2)), file, number
    elif server == "openvpn":
        yield from _openvpn(root)
    elif server == "postgresql":
        lines = list(
            _walk(
                root, "/etc/postgresql/*/*/postgresql.conf", _NO_INCLUDE, "/etc/postgresql", set()
            )
        )
        disabled = {
            file
            for file, _, line in lines
            if re.match(r"^ssl\s*=\s*'?(off|false|no|0)'?\s*(#.*)?$", line, re.I)
        }
        for file, number, line in lines:
            match = _POSTGRES.match(line)
            if file in disabled or not match or not _strip(match.group(2)):
                continue  # "ssl = off": the cluster serves no TLS, whatever files are named
            value = _strip(match.group(2))
            if not value.startswith("/"):
                # relative to the data directory, which Debian keeps in /var/lib/postgresql
                version, cluster = file.split("/")[3:5]
                value = f"/var/lib/postgresql/{version}/{cluster}/{value}"
            yield _kind(match.group(1)), value, file, number


def _openvpn(root: Path) -> Iterator[Reference]:
    seen: set[str] = set()
    for pattern in (
        "/etc/openvpn/*.conf",
        "/etc/openvpn/server/*.conf",
        "/etc/openvpn/client/*.conf",
    ):
        for file, number, line in _walk(root, pattern, _NO_INCLUDE, "/etc/openvpn", seen):
            if line in ("<cert>", "<key>", "<pkcs12>"):
                kind = Material.PRIVATE_KEY if line == "<key>" else Material.CERTIFICATE
                yield kind, f"{file}:{number} (inline {line})", file, number
                continue
            match = _OPENVPN.match(line)
            if match and _strip(match.group(2)) != "[inline]":
                value = _strip(match.group(2)).split()[0]
                if not value.startswith("/"):
                    value = f"{file.rsplit('/', 1)[0]}/{value}"
                yield _kind(match.group(1)), value, file, number


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN (?:TRUSTED )?CERTIFICATE-----.+?-----END (?:TRUSTED )?CERTIFICATE-----", re.S
)


def _certificates(data: bytes) -> tuple[tuple[Certificate, ...], bool, str | None]:
    """The certificates in PEM or DER data, and whether it also holds a private key. Only the
    ``BEGIN`` labels of other blocks are looked at."""
    labels = _PEM.findall(data.decode("ascii", "replace"))
    has_key = any(label.endswith("PRIVATE KEY") for label in labels)
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
    except ImportError:  # pragma: no cover - a declared dependency
        return (), has_key, "the cryptography library is not installed"
    found = []
    try:
        if labels:
            parsed = [
                x509.load_pem_x509_certificate(block.group(0))
                for block in _PEM_CERTIFICATE.finditer(data)
            ]
        elif data[:1] == b"\x30":
            parsed = [x509.load_der_x509_certificate(data)]
        else:
            parsed = []
    except ValueError as error:
        return (), has_key, f"not a readable certificate ({str(error).splitlines()[0]})"
    for cert in parsed:
        found.append(
            Certificate(
                subject=cert.subject.rfc4514_string(),
                not_before=_valid(cert, "not_valid_before"),
                not_after=_valid(cert, "not_valid_after"),
                sha256=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
                serial=format(cert.serial_number, "x"),
            )
        )
    return tuple(found), has_key, None


def _valid(cert: Any, name: str) -> float:
    """``not_valid_before``/``_after`` as a timestamp (``*_utc`` from cryptography 42 on; the
    naive UTC datetime before)."""
    aware = getattr(cert, f"{name}_utc", None)
    if aware is not None:
        return float(aware.timestamp())
    from datetime import UTC

    return float(getattr(cert, name).replace(tzinfo=UTC).timestamp())


def _material(root: Path, server: str, reference: Reference) -> list[KeyMaterial]:
    kind, path, file, number = reference
    evidence = Evidence("config", f"{server}: {kind.value} {path}", file, number)
    if " (inline " in path:
        return [
            KeyMaterial(
                server,
                kind,
                path,
                True,
                (),
                kind is Material.PRIVATE_KEY,
                evidence,
                "inline in the configuration; not read",
            )
        ]
    real = resolve_in_root(root, path)
    targets: list[tuple[str, Path]] = []
    if real is not None and real.is_dir():  # haproxy: crt DIR loads every file in it
        targets = [
            (f"{path.rstrip('/')}/{p.name}", p) for p in sorted(real.iterdir()) if p.is_file()
        ]
    elif real is not None and real.exists():
        targets = [(path, real)]
    if not targets:
        return [
            KeyMaterial(server, kind, path, False, (), False, evidence, "not found under the root")
        ]
    found = []
    for shown, target in targets:
        try:  # a FIFO or device named as a key is reported, never read
            data = read_head(target, Kind.CONFIG, MAX_FILE_BYTES)
        except InputError as error:
            found.append(
                KeyMaterial(
                    server,
                    kind,
                    shown,
                    os.path.exists(target),
                    (),
                    False,
                    evidence,
                    f"cannot be read: {error.detail or error.reason}",
                )
            )
            continue
        if kind is Material.PRIVATE_KEY:
            labels = _PEM.findall(data[:4096].decode("ascii", "replace"))
            holds = any(label.endswith("PRIVATE KEY") for label in labels) or not labels
            certs: tuple[Certificate, ...] = ()
            problem = None
            if "CERTIFICATE" in labels:
                certs, _, problem = _certificates(data)
        else:
            certs, holds, problem = _certificates(data)
        del data
        found.append(KeyMaterial(server, kind, shown, True, certs, holds, evidence, problem))
    return found


def find_key_material(root: Path, packages: Iterable[str] | None = None) -> tuple[KeyMaterial, ...]:
    """Every certificate and key file the servers run by ``packages`` are configured to serve
    (all eight servers when ``packages`` is None), each file once per server."""
    servers = tuple(SERVER_PACKAGES) if packages is None else servers_for(packages)
    found: list[KeyMaterial] = []
    for server in servers:
        seen: set[tuple[str, Material]] = set()
        for reference in _references(root, server):
            if (reference[1], reference[0]) in seen:
                continue
            seen.add((reference[1], reference[0]))
            found.extend(_material(root, server, reference))
    return tuple(found)
