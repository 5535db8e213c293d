"""CPU time a drain cost: its worker processes', and the database's on their connections.

Worker processes are children of the benchmark, so their CPU is what `getrusage` adds up for
children between two readings (start-up included). The database's is read from /proc for the
server processes that serve the workers' connections, which needs PostgreSQL on this machine;
elsewhere (or on SQLite) it is not known.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import psycopg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU of every waited-for child process so far, user and system."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


def backend_pids(database_url: str) -> set[int]:
    """The server processes connected to the database now, this reading's own left out."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {int(pid) for (pid,) in rows}


def process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU of a process on this machine; None if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def database_cpu_seconds(database_url: str, left_out: set[int]) -> float | None:
    """CPU of the server processes connected to the database, but for those `left_out`."""
    readings = [process_cpu_seconds(pid) for pid in backend_pids(database_url) - left_out]
    if not readings or any(reading is None for reading in readings):
        return None
    return sum(reading for reading in readings if reading is not None)
