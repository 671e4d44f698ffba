"""A throwaway PostgreSQL cluster for benches: its own directory, a free port, pg_stat_statements loaded.

The system cluster is never touched. `initdb` and `pg_ctl` refuse to run as
root, so as root they run as the `postgres` user (the directory is handed to
it). Durability is off (`-F`): the cluster lives for one bench run.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

READY_TIMEOUT_SECONDS = 30


def _server_bin():
    """The newest installed server's bin directory that also has pg_stat_statements."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for bindir in candidates:
        if Path(bindir, "..", "lib", "pg_stat_statements.so").exists():
            return bindir
    raise SystemExit("no PostgreSQL server with pg_stat_statements found (install postgresql-contrib)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self):
        self.bindir = _server_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="cloudmgr-bench-pg-"))
        self.port = free_port()
        self.user = "postgres"
        self.host = "127.0.0.1"
        self.started = False

    def _run(self, *command):
        argv = [os.path.join(self.bindir, command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-sync")
        options = (
            f"-F -p {self.port} -k {self.directory} -c listen_addresses={self.host}"
            " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on"
            " -c pg_stat_statements.track_planning=on"
            " -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(data), "-l", str(self.directory / "log"), "-w", "-o", options, "start")
        self.started = True
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                self.connect("postgres").close()
                return self
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def connect(self, database):
        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database)
        connection.autocommit = True
        return connection

    def url(self, database):
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, database, *, stat_statements=False):
        """Create `database`; with stat_statements, the pg_stat_statements view in `postgres`."""
        admin = self.connect("postgres")
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database}"')
            if stat_statements:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        admin.close()

    def setup_django(self, database, secret_key, *, fast_password_hasher=True):
        """Point this process's Django at `database` in the cluster and set it up."""
        os.environ.update(
            DJANGO_SETTINGS_MODULE="cloudmgr.settings",
            CLOUDMGR_DATABASE_URL=self.url(database),
            CLOUDMGR_SECRET_KEY=secret_key,
        )
        if fast_password_hasher:
            os.environ["CLOUDMGR_FAST_PASSWORD_HASHER"] = "1"
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import django

        django.setup()

    def stop(self):
        if self.started:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
