"""Set up Django on a fresh benchmark database, and describe the machine and software the numbers come from."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
DEFAULT_DB = BENCH_VAR / "bench.sqlite3"
# Every table a sync writes; the floor and the between-pass reset empty these (children first).
SYNC_TABLES = (
    "syncapp_fieldchange",
    "syncapp_duplicatecandidate",
    "syncapp_halocliententry",
    "syncapp_site",
    "syncapp_halolink",
    "syncapp_customer",
    "syncapp_syncrun",
)


def setup_django(database_url: str | None, *, keep_rows: bool = False, sqlite_file: Path = DEFAULT_DB) -> str:
    """Point DATABASE_URL at the benchmark database (a new SQLite file unless given), set Django up, migrate.

    Returns a description of the database for the report. Must run before any model is imported. keep_rows
    leaves the rows an earlier run left (the screens benchmark's --reuse).
    """
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{sqlite_file}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings

    # tests.settings turns DEBUG on; production runs without it, and debug cursors would log every statement.
    settings.DEBUG = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not keep_rows:
        empty_sync_tables()  # a given BENCH_DATABASE_URL may hold an earlier run's rows
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return f"SQLite file {shown} (WAL, synchronous=NORMAL)"
    host = connection.settings_dict.get("HOST") or "local socket"
    return f"{connection.vendor} database {connection.settings_dict['NAME']} on {host}"


def empty_sync_tables() -> None:
    """Remove every row a sync (or the insert floor) wrote, so the next step starts on an empty database."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(SYNC_TABLES)} RESTART IDENTITY CASCADE")
            if connection.get_autocommit():  # VACUUM cannot run inside a transaction
                cursor.execute("VACUUM ANALYZE")
            return
        for table in SYNC_TABLES:
            cursor.execute(f'DELETE FROM "{table}"')  # raw SQL: FieldChange refuses ORM deletes (append-only)
        if connection.vendor == "sqlite":
            placeholders = ", ".join(["%s"] * len(SYNC_TABLES))
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({placeholders})", SYNC_TABLES)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")  # give back the freed pages, so the file is as compact as a new one


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _total_memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine_lines(database: str) -> list[str]:
    """Machine, software and database, one fact per line, for the report's header."""
    import django
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        engine = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            engine = cursor.fetchone()[0].split(",")[0]
    return [
        f"Machine: {platform.platform()}; CPU {_cpu_model()}; {os.cpu_count()} logical CPUs; {_total_memory()} RAM",
        f"Software: Python {sys.version.split()[0]}, Django {django.get_version()}, {engine}",
        f"Database: {database}",
    ]


def write_report(out: str, text: str) -> Path:
    """Write a Markdown report (relative paths under the repository) and print it; returns where it went."""
    path = Path(out)
    path = path if path.is_absolute() else ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text)
    return path
