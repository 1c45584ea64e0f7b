"""``depgraph fleet``: one answer for many hosts' snapshots, on Dask (README, "Fleets").

The pieces, in the order data flows: :mod:`hosts` turns the command line's paths into one
:class:`~depgraph.fleet.hosts.Host` per file; :mod:`cache` knows which were audited before (by
the sha256 of their bytes); :mod:`runner` audits one host in a child process with a time and
memory limit and returns a small summary (never the graph); :mod:`engine` runs the runner on a
local or an existing Dask cluster and streams the summaries back; :mod:`report` reduces them into
the fleet report (schema ``depgraph/fleet/v1``) and renders it.
"""
