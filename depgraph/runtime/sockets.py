"""Listening sockets of a process: ``/proc/PID/net/{tcp,tcp6,udp,udp6}`` matched to the socket
inodes in ``/proc/PID/fd`` (proc(5), and the kernel's ``Documentation/networking/proc_net_tcp``).

The tables are per network namespace, so they are read through the process's own ``/proc/PID/net``
and kept per namespace (``/proc/PID/ns/net``). A TCP socket listens in state ``0A`` (TCP_LISTEN);
a UDP socket serves when it is bound and not connected (state ``07``, remote address zero), which
is what ``ss -ulpn`` lists as ``UNCONN``. Addresses are in the kernel's byte order: IPv4 as one
32-bit word, IPv6 as four, each printed as host-order hex.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import re
import sys
from dataclasses import dataclass

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"
TABLES = (("tcp", 4), ("tcp6", 6), ("udp", 4), ("udp6", 6))
_LOCAL = {
    4: re.compile(r"([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})"),
    6: re.compile(r"([0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})"),
}
"""A local address as the kernel prints it (``%08X:%04X``, IPv6 as four such words)."""


class Scope(enum.Enum):
    """Who can reach a listening socket, from its local address."""

    ALL = "all"
    """Bound to every address (``0.0.0.0``, ``::``)."""
    PUBLIC = "public"
    """Bound to a globally routable address."""
    PRIVATE = "private"
    """Bound to a private, link-local or other non-global address."""
    LOOPBACK = "loopback"
    """Bound to loopback only: reachable from this host alone."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening socket: ``protocol`` is ``tcp`` or ``udp``, ``version`` 4 or 6."""

    protocol: str
    version: int
    address: str
    port: int
    scope: Scope
    inode: int

    def __str__(self) -> str:
        """``address:port/proto`` as report-v1 has it (IPv6 in brackets)."""
        host = f"[{self.address}]" if self.version == 6 else self.address
        return f"{host}:{self.port}/{self.protocol}"


def _ipv4(word: str) -> str:
    raw = int(word, 16).to_bytes(4, sys.byteorder)
    return ".".join(str(byte) for byte in raw)


def _ipv6(text: str) -> str:
    raw = b"".join(int(text[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, 32, 8))
    return str(ipaddress.IPv6Address(raw))


def scope_of(address: str) -> Scope:
    """The :class:`Scope` of a local address (an IPv4-mapped IPv6 address counts as IPv4)."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.is_unspecified:
        return Scope.ALL
    if parsed.is_loopback:
        return Scope.LOOPBACK
    if parsed.is_global:
        return Scope.PUBLIC
    return Scope.PRIVATE


def parse_table(text: str, protocol: str, version: int) -> dict[int, Listener]:
    """The listening sockets of one ``/proc/net/{tcp,udp}[6]`` table, by inode."""
    found: dict[int, Listener] = {}
    wanted = TCP_LISTEN if protocol == "tcp" else UDP_UNCONNECTED
    for line in text.split("\n")[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != wanted:
            continue
        local, remote = fields[1], fields[2]
        if protocol == "udp" and remote.split(":")[0].strip("0"):
            continue
        parts = _LOCAL[version].fullmatch(local)
        inode_text = fields[9]
        if (
            parts is None
            or not (inode_text.isascii() and inode_text.isdigit())
            or len(inode_text) > 20
        ):
            continue  # int() would take "-1", "1_0" or 5,000 digits; the kernel writes none of them
        host, port = parts.groups()
        try:
            address = _ipv4(host) if version == 4 else _ipv6(host)
        except ValueError:
            continue
        inode = int(inode_text)
        number = int(port, 16)
        if inode == 0:
            continue
        found[inode] = Listener(protocol, version, address, number, scope_of(address), inode)
    return found


def read_tables(net: str) -> dict[int, Listener]:
    """Every listening socket of one network namespace (``net`` is a ``.../net`` directory)."""
    found: dict[int, Listener] = {}
    for name, version in TABLES:
        try:
            with open(f"{net}/{name}", encoding="ascii", errors="replace") as table:
                text = table.read()
        except OSError:
            continue  # no IPv6 in this kernel, or the process is gone
        found.update(parse_table(text, name.rstrip("6"), version))
    return found


def socket_inodes(fd_directory: str) -> frozenset[int] | None:
    """Inodes of the sockets a process has open (``socket:[INODE]`` links), None if unreadable."""
    try:
        names = os.listdir(fd_directory)
    except OSError:
        return None
    inodes = set()
    for name in names:
        try:
            target = os.readlink(f"{fd_directory}/{name}")
        except OSError:
            continue  # closed in the meantime
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return frozenset(inodes)


class ListenerTables:
    """Listening sockets per network namespace, each namespace's tables read once."""

    def __init__(self, proc: str) -> None:
        self.proc = proc
        self._by_namespace: dict[str, dict[int, Listener]] = {}

    def listening(self, pid: int) -> tuple[Listener, ...] | None:
        """The sockets ``pid`` listens on, sorted; None when its descriptors cannot be read."""
        inodes = socket_inodes(f"{self.proc}/{pid}/fd")
        if inodes is None:
            return None
        if not inodes:
            return ()
        try:
            namespace = os.readlink(f"{self.proc}/{pid}/ns/net")
        except OSError:
            namespace = f"pid {pid}"
        tables = self._by_namespace.get(namespace)
        if tables is None:
            tables = self._by_namespace[namespace] = read_tables(f"{self.proc}/{pid}/net")
        found = [tables[inode] for inode in inodes if inode in tables]
        return tuple(sorted(found, key=lambda s: (s.protocol, s.version, s.port, s.address)))
