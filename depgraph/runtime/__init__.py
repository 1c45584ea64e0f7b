"""What is running: processes that map a library, how they are exposed, and what to restart.

One module per job, all reading proc(5) files with plain ``os`` calls (``depgraph restart`` is a
start-up-bound command and imports nothing heavy):

* ``library``: which files make up the library (dpkg's file list of the package, or a soname pattern);
* ``maps``: the library's mappings in ``/proc/PID/maps`` (live or saved), deleted or replaced;
* ``sockets``: listening TCP/UDP sockets from ``/proc/PID/net/*`` and the process's socket inodes;
* ``cgroup``: the systemd unit or container from ``/proc/PID/cgroup``;
* ``owners``: the package owning an executable, from dpkg's file lists, cached;
* ``scan``: all of the above for every process, as a :class:`~depgraph.runtime.scan.RuntimeScan`;
* ``plan``: what to restart, and how (``systemctl restart``, a container, a reboot);
* ``keys``: the private keys and certificates exposed TLS servers serve;
* ``report``: the scan as report-v1 ``processes`` entries, JSON and a table.
"""
