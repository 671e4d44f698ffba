"""A throwaway OpenLDAP slapd for tests: its own config and database in a temp dir, on a free loopback port.

with Slapd(tmp_path) as directory:
    directory.add_user("alice", "her-password", groups=["devs"])
"""

import base64
import hashlib
import os
import socket
import subprocess
import time
from contextlib import contextmanager

import ldap
import ldap.modlist

SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "slapd-root-password"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=cloudmgr,ou=services,{SUFFIX}"

_CONFIG = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 104857600
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {dir}/db
"""


def ssha(password):
    """userPassword as OpenLDAP stores it: {SSHA} of the password with a random salt."""
    salt = os.urandom(8)
    return b"{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt)  # noqa: S324


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Slapd:
    def __init__(self, directory):
        self.dir = directory
        self.port = _free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        config = self.dir / "slapd.conf"
        config.write_text(
            _CONFIG.format(dir=self.dir, suffix=SUFFIX, admin=ADMIN_DN, password=ADMIN_PASSWORD)
        )
        # -d 0 keeps slapd in the foreground, so the test owns the process.
        self.process = subprocess.Popen(
            ["/usr/sbin/slapd", "-d", "0", "-f", str(config), "-h", f"{self.uri}/"],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "slapd.log").open("wb"),
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with self._admin():
                    break
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "slapd did not start: " + (self.dir / "slapd.log").read_text()
                    ) from None
                time.sleep(0.02)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @contextmanager
    def _admin(self):
        connection = ldap.initialize(self.uri)
        try:
            connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
            yield connection
        finally:
            connection.unbind_s()

    def add(self, dn, **attributes):
        entry = {
            name: [
                v.encode() if isinstance(v, str) else v
                for v in (values if isinstance(values, list) else [values])
            ]
            for name, values in attributes.items()
        }
        with self._admin() as connection:
            connection.add_s(dn, ldap.modlist.addModlist(entry))

    def delete(self, dn):
        with self._admin() as connection:
            connection.delete_s(dn)

    def modify(self, dn, operation, attribute, value):
        with self._admin() as connection:
            connection.modify_s(dn, [(operation, attribute, [value.encode()])])

    def populate(self, service_password):
        """The base entries, the service account cloudmgr binds as, and the organisational units."""
        self.add(SUFFIX, objectClass=["dcObject", "organization"], dc="example", o="Example")
        for unit in ("people", "groups", "services"):
            self.add(f"ou={unit},{SUFFIX}", objectClass="organizationalUnit", ou=unit)
        self.add(
            SERVICE_DN,
            objectClass=["organizationalRole", "simpleSecurityObject"],
            cn="cloudmgr",
            userPassword=ssha(service_password),
        )

    def user_dn(self, uid):
        return f"uid={uid},{PEOPLE}"

    def group_dn(self, name):
        return f"cn={name},{GROUPS}"

    def add_user(self, uid, password, *, full_name=None, email=None):
        self.add(
            self.user_dn(uid),
            objectClass=["inetOrgPerson"],
            uid=uid,
            cn=full_name or uid.title(),
            sn=uid.title(),
            mail=email or f"{uid}@example.test",
            userPassword=ssha(password),
        )

    def add_group(self, name, members):
        # groupOfNames needs a member at all times: the admin entry stays in every group.
        self.add(
            self.group_dn(name),
            objectClass="groupOfNames",
            cn=name,
            member=[ADMIN_DN, *(self.user_dn(m) for m in members)],
        )

    def add_to_group(self, name, uid):
        self.modify(self.group_dn(name), ldap.MOD_ADD, "member", self.user_dn(uid))

    def remove_from_group(self, name, uid):
        self.modify(self.group_dn(name), ldap.MOD_DELETE, "member", self.user_dn(uid))
