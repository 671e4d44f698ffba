"""The polkit rules shipped for hosts (deploy/host/50-cloudmgr-migration.rules), run by node with a stand-in
for polkit's JavaScript API: the migration gateway's user may migrate cloudmgr's guests in and nothing else.

polkitd itself needs a system bus and systemd, which this machine has not; the rules are plain JavaScript.
"""

import json
import shutil
import subprocess
from pathlib import Path

import playwright
from django.conf import settings

RULES = Path(settings.BASE_DIR) / "deploy" / "host" / "50-cloudmgr-migration.rules"
# Debian's node, or the one Playwright (a test dependency) ships.
NODE = shutil.which("node") or str(Path(playwright.__file__).parent / "driver" / "node")

HARNESS = """
const fs = require("fs");
const rules = [];
const polkit = {Result: {YES: "yes", NO: "no", NOT_HANDLED: null}, addRule: rule => rules.push(rule)};
eval(fs.readFileSync(process.argv[1], "utf8"));
const questions = JSON.parse(process.argv[2]);
console.log(JSON.stringify(questions.map(([user, id, domain]) => {
  const action = {id, lookup: key => (key === "domain_name" ? domain : undefined)};
  return rules.map(rule => rule(action, {user})).find(answer => answer !== null) ?? null;
})));
"""


def decisions(questions):
    done = subprocess.run(
        [NODE, "-e", HARNESS, str(RULES), json.dumps(questions)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_the_migration_user_may_migrate_cloudmgrs_guests_in_and_nothing_else():
    user, guest = "cloudmgr-migrate", "cloudmgr-7f0c1d4e-4a57-4f43-9b7c-3a1e2b3c4d5e"
    allowed = [
        (user, "org.libvirt.unix.manage", None),
        (user, "org.libvirt.api.connect.getattr", None),
        (user, "org.libvirt.api.domain.migrate", guest),
        (user, "org.libvirt.api.domain.start", guest),
        (user, "org.libvirt.api.domain.save", guest),
    ]
    refused = [
        (user, "org.libvirt.api.domain.migrate", "hand-made-vm"),
        (user, "org.libvirt.api.domain.read-secure", guest),
        (user, "org.libvirt.api.domain.delete", guest),
        (user, "org.libvirt.api.connect.search-domains", None),
        (user, "org.libvirt.api.connect.write", None),
        (user, "org.libvirt.api.secret.read-secure", None),
        (user, "org.libvirt.api.node-device.detach", None),
        (user, "org.libvirt.api.network.write", None),
    ]

    assert decisions(allowed) == ["yes"] * len(allowed)
    assert decisions(refused) == ["no"] * len(refused)
    assert decisions([("root", "org.libvirt.api.domain.delete", guest)]) == ["yes"]
    assert decisions([("someone", "org.libvirt.api.domain.start", guest)]) == [None]
