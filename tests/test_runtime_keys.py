"""Key material: the certificates and keys TLS servers are configured to serve, read from real
configuration text under a temporary root with certificates made by ``openssl`` in the test."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from depgraph.runtime.keys import Material, find_key_material, servers_for
from tests.conftest import HEARTBLEED_DATA, require_tool, run_depgraph

CONFIGS = {
    # Debian's own defaults where there is one (nginx's sites-available/default, apache2's
    # default-ssl.conf, postfix's main.cf, dovecot's 10-ssl.conf, postgresql.conf).
    "etc/nginx/nginx.conf": (
        "user www-data;\nworker_processes auto;\nhttp {\n\tinclude /etc/nginx/mime.types;\n"
        "\tinclude /etc/nginx/conf.d/*.conf;\n\tinclude /etc/nginx/sites-enabled/*;\n}\n"
    ),
    "etc/nginx/sites-enabled/default": (
        "server {\n\tlisten 443 ssl default_server;\n\tlisten [::]:443 ssl default_server;\n"
        "\tssl_certificate /etc/ssl/certs/nginx.pem;\n\tssl_certificate_key /etc/ssl/private/nginx.key;\n"
        "\t# ssl_certificate /etc/ssl/certs/commented-out.pem;\n\troot /var/www/html;\n}\n"
    ),
    "etc/apache2/apache2.conf": (
        'ServerRoot "/etc/apache2"\nIncludeOptional mods-enabled/*.load\n'
        "IncludeOptional mods-enabled/*.conf\nInclude ports.conf\nIncludeOptional sites-enabled/*.conf\n"
    ),
    "etc/apache2/ports.conf": "Listen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n",
    "etc/apache2/sites-enabled/default-ssl.conf": (
        "<VirtualHost *:443>\n\t\tServerAdmin webmaster@localhost\n\t\tSSLEngine on\n"
        "\t\tSSLCertificateFile\t/etc/ssl/certs/ssl-cert-snakeoil.pem\n"
        "\t\tSSLCertificateKeyFile /etc/ssl/private/ssl-cert-snakeoil.key\n</VirtualHost>\n"
    ),
    "etc/postfix/main.cf": (
        "smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)\nbiff = no\n"
        "# TLS parameters\nsmtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n"
        "smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\nsmtpd_tls_security_level=may\n"
    ),
    "etc/dovecot/dovecot.conf": "!include_try /usr/share/dovecot/protocols.d/*.protocol\n!include conf.d/*.conf\n",
    "etc/dovecot/conf.d/10-ssl.conf": (
        "ssl = yes\nssl_cert = </etc/dovecot/private/dovecot.pem\nssl_key = </etc/dovecot/private/dovecot.key\n"
    ),
    "etc/haproxy/haproxy.cfg": (
        "global\n\tlog /dev/log local0\nfrontend https-in\n"
        "\tbind :443 ssl crt /etc/haproxy/site.pem alpn h2,http/1.1\n"
        "\tbind :8443 ssl crt /etc/haproxy/certs/\n\tdefault_backend web\n"
    ),
    "etc/stunnel/stunnel.conf": "cert = /etc/stunnel/stunnel.pem\nkey = /etc/stunnel/stunnel.pem\n[https]\naccept  = 443\nconnect = 80\n",
    "etc/openvpn/server/server.conf": (
        "port 1194\nproto udp\ndev tun\nca ca.crt\ncert server.crt\n"
        "key server.key  # This file should be kept secret\ndh dh2048.pem\n<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n</tls-auth>\n"
    ),
    "etc/postgresql/15/main/postgresql.conf": (
        "ssl = on\nssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'\t\t# (change requires restart)\n"
        "ssl_key_file = 'server.key'\n"
    ),
}

CERTIFICATES = {
    "etc/ssl/certs/nginx.pem": "etc/ssl/private/nginx.key",
    "etc/ssl/certs/ssl-cert-snakeoil.pem": "etc/ssl/private/ssl-cert-snakeoil.key",
    "etc/dovecot/private/dovecot.pem": "etc/dovecot/private/dovecot.key",
    "etc/openvpn/server/server.crt": "etc/openvpn/server/server.key",
}


def make_certificate(cert: Path, key: Path, name: str) -> None:
    cert.parent.mkdir(parents=True, exist_ok=True)
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            require_tool("openssl"),
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "30",
            "-subj",
            f"/CN={name}",
        ],
        check=True,
        capture_output=True,
    )


def openssl_facts(cert: Path) -> tuple[float, str]:
    done = subprocess.run(
        [
            require_tool("openssl"),
            "x509",
            "-in",
            cert,
            "-noout",
            "-startdate",
            "-fingerprint",
            "-sha256",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines())
    start = time.mktime(time.strptime(lines["notBefore"].replace(" GMT", ""), "%b %d %H:%M:%S %Y"))
    start -= time.timezone if not time.localtime().tm_isdst else time.altzone
    return start, lines["sha256 Fingerprint"]


@pytest.fixture(scope="module")
def tls_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tlsroot")
    for path, text in CONFIGS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for cert, key in CERTIFICATES.items():
        make_certificate(root / cert, root / key, cert.rsplit("/", 1)[-1])
    # haproxy and stunnel take certificate and key in one file
    make_certificate(root / "tmp-site.crt", root / "tmp-site.key", "haproxy")
    for combined in ("etc/haproxy/site.pem", "etc/haproxy/certs/a.pem", "etc/stunnel/stunnel.pem"):
        (root / combined).parent.mkdir(parents=True, exist_ok=True)
        (root / combined).write_bytes(
            (root / "tmp-site.crt").read_bytes() + (root / "tmp-site.key").read_bytes()
        )
    (root / "var/lib/postgresql/15/main").mkdir(parents=True)
    (root / "var/lib/postgresql/15/main/server.key").write_bytes(
        (root / "tmp-site.key").read_bytes()
    )
    return root


def test_every_server_is_found(tls_root: Path) -> None:
    found = find_key_material(tls_root)
    by_server: dict[str, set[tuple[Material, str]]] = {}
    for item in found:
        by_server.setdefault(item.server, set()).add((item.material, item.path))
    assert by_server["nginx"] == {
        (Material.CERTIFICATE, "/etc/ssl/certs/nginx.pem"),
        (Material.PRIVATE_KEY, "/etc/ssl/private/nginx.key"),
    }
    assert (Material.CERTIFICATE, "/etc/ssl/certs/ssl-cert-snakeoil.pem") in by_server["apache2"]
    assert (Material.PRIVATE_KEY, "/etc/ssl/private/ssl-cert-snakeoil.key") in by_server["postfix"]
    assert (Material.CERTIFICATE, "/etc/dovecot/private/dovecot.pem") in by_server["dovecot"]
    assert by_server["haproxy"] == {
        (Material.CERTIFICATE, "/etc/haproxy/site.pem"),
        (Material.CERTIFICATE, "/etc/haproxy/certs/a.pem"),
    }
    assert (Material.CERTIFICATE, "/etc/stunnel/stunnel.pem") in by_server["stunnel4"]
    assert by_server["openvpn"] >= {
        (Material.CERTIFICATE, "/etc/openvpn/server/server.crt"),
        (Material.PRIVATE_KEY, "/etc/openvpn/server/server.key"),
    }
    assert (Material.PRIVATE_KEY, "/var/lib/postgresql/15/main/server.key") in by_server[
        "postgresql"
    ]
    assert all(item.exists for item in found), [i for i in found if not i.exists]
    assert not any("commented-out" in item.path for item in found)


def test_certificate_facts_match_openssl(tls_root: Path) -> None:
    (nginx,) = [
        k for k in find_key_material(tls_root, ["nginx-core"]) if k.material is Material.CERTIFICATE
    ]
    (certificate,) = nginx.certificates
    start, fingerprint = openssl_facts(tls_root / "etc/ssl/certs/nginx.pem")
    assert certificate.sha256 == fingerprint
    assert abs(certificate.not_before - start) < 2
    assert certificate.subject == "CN=nginx.pem"
    assert nginx.evidence.path == "/etc/nginx/sites-enabled/default" and nginx.evidence.line == 4
    assert nginx.issued_before(time.time() + 60) and not nginx.issued_before(start - 60)
    (haproxy,) = [
        k for k in find_key_material(tls_root, ["haproxy"]) if k.path.endswith("site.pem")
    ]
    assert haproxy.holds_private_key and len(haproxy.certificates) == 1


def test_only_the_servers_of_the_given_packages() -> None:
    assert servers_for(["nginx-core", "openssl", "postgresql-15:amd64"]) == ("nginx", "postgresql")
    assert servers_for(["openssh-server"]) == ()


def test_missing_and_disabled(tmp_path: Path) -> None:
    (tmp_path / "etc/nginx").mkdir(parents=True)
    (tmp_path / "etc/nginx/nginx.conf").write_text("ssl_certificate /etc/ssl/none.pem;\n")
    (missing,) = find_key_material(tmp_path, ["nginx"])
    assert not missing.exists and missing.problem == "not found under the root"
    conf = tmp_path / "etc/postgresql/15/main/postgresql.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("ssl = off\nssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'\n")
    assert find_key_material(tmp_path, ["postgresql-15"]) == ()


def test_key_contents_are_never_printed(tls_root: Path, tmp_path: Path) -> None:
    """Offline (--root with the advice's grep output): every server's material is listed, and no
    line of any private key appears in either format."""
    lines = [
        f"/proc/77/maps:{line} (deleted)"
        for line in (
            HEARTBLEED_DATA / "16-proc-maps-real/hacklu2015-petition_builder-php5-maps.txt"
        )
        .read_text()
        .splitlines()
        if "libssl" in line
    ]
    saved = tmp_path / "grep.txt"
    saved.write_text("\n".join(lines) + "\n")
    secrets = {
        line
        for key in tls_root.rglob("*")
        if key.is_file() and b"PRIVATE KEY" in key.read_bytes()
        for line in key.read_text().splitlines()
        if line and not line.startswith("-----")
    }
    assert secrets
    for form in ("json", "table"):
        done = run_depgraph("restart", "--root", tls_root, "--maps", saved, "--format", form)
        assert done.status == 1, done.stderr
        for secret in secrets:
            assert secret not in done.stdout and secret not in done.stderr
    document = json.loads(
        run_depgraph("restart", "--root", tls_root, "--maps", saved, "--format", "json").stdout
    )
    servers = {k["server"] for k in document["keys"]}
    assert servers == {
        "nginx",
        "apache2",
        "postfix",
        "dovecot",
        "haproxy",
        "stunnel4",
        "openvpn",
        "postgresql",
    }
    nginx = next(k for k in document["keys"] if k["path"] == "/etc/ssl/certs/nginx.pem")
    assert nginx["certificates"][0]["sha256"].count(":") == 31
    assert nginx["config"] == "/etc/nginx/sites-enabled/default:4"
