"""`manage.py check --deploy` passes, warnings included, with the controller settings of docs/install.md."""

import re
import subprocess
import sys

from django.conf import settings

INSTALL = settings.BASE_DIR / "docs" / "install.md"
# The controller's environment file is the sh block that sets CLOUDMGR_SECRET_KEY.
_SH_BLOCKS = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def documented_controller_environment():
    (block,) = [b for b in _SH_BLOCKS.findall(INSTALL.read_text()) if b.startswith("CLOUDMGR_SECRET_KEY=")]
    return dict(line.split("=", 1) for line in block.splitlines() if line and not line.startswith("#"))


def deploy_check(environment):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
    )


def test_the_documented_controller_settings_pass_the_deploy_check(tmp_path):
    environment = documented_controller_environment()
    # Placeholders of the document, filled as an operator would.
    environment["CLOUDMGR_SECRET_KEY"] = "k" * 30 + "-documented-secret-key-of-fifty+"
    environment["CLOUDMGR_TASK_SIGNING_KEY_FILE"] = str(tmp_path / "absent.pem")
    environment["CLOUDMGR_IMAGE_STORE_DIR"] = str(tmp_path / "images")

    checked = deploy_check(environment)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert environment["CLOUDMGR_TLS"] == "true"


def test_without_tls_the_deploy_check_names_what_is_missing(tmp_path):
    environment = documented_controller_environment()
    environment["CLOUDMGR_SECRET_KEY"] = "k" * 30 + "-documented-secret-key-of-fifty+"
    del environment["CLOUDMGR_TLS"]

    checked = deploy_check(environment)

    assert checked.returncode != 0
    assert "SECURE_HSTS_SECONDS" in checked.stderr + checked.stdout
