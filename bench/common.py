"""Set-up shared by benches that run on the configured PostgreSQL server (not a throwaway cluster).

`fresh_database(name)` drops and re-creates the database NAME on the server
that CLOUDMGR_DATABASE_URL names (default: the local socket), points this
process and the processes it starts at it, then migrates and bootstraps it.
Importing this module puts the repository on sys.path, so a bench runs as
`.venv/bin/python bench/<bench>.py` from anywhere.
"""

import os
import secrets
import statistics
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))


def database_url(name):
    """CLOUDMGR_DATABASE_URL with its database name replaced by `name`."""
    base = urlsplit(os.environ.get("CLOUDMGR_DATABASE_URL", "postgres:///cloudmgr"))
    return urlunsplit(base._replace(path="/" + quote(name, safe="")))


def _recreate(url, name):
    import psycopg2
    from psycopg2 import sql

    from cloudmgr.env import database_from_url

    entry = database_from_url(url)
    params = {"dbname": "postgres", "user": entry["USER"], "password": entry["PASSWORD"]}
    params |= {"host": entry["HOST"], "port": entry["PORT"]}
    server = psycopg2.connect(**{key: value for key, value in params.items() if value})
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server.close()


def fresh_database(name):
    """Create NAME afresh, set up Django on it, migrate and bootstrap; return its URL."""
    url = database_url(name)
    os.environ.update(DJANGO_SETTINGS_MODULE="cloudmgr.settings", CLOUDMGR_DATABASE_URL=url)
    os.environ.setdefault("CLOUDMGR_SECRET_KEY", secrets.token_urlsafe(40))
    _recreate(url, name)
    import django

    django.setup()
    from django.core.management import call_command

    from apps.identity.services.bootstrap import bootstrap

    call_command("migrate", verbosity=0)
    bootstrap()
    return url


def server_settings(*names):
    """{name: value} of PostgreSQL settings, to print beside the figures they shape."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(names)])
        return dict(cursor.fetchall())


def cpu_seconds(pid, *, children=False):
    """User + system CPU time of a process so far, from /proc; with `children`, also that of the
    children it waited for (such as qemu-img)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    indexes = (11, 12, 13, 14) if children else (11, 12)
    return sum(int(fields[index]) for index in indexes) / os.sysconf("SC_CLK_TCK")


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
