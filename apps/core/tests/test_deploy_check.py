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


def settings_value(name, environment):
    done = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "cloudmgr.settings", **environment},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_without_a_setting_the_controller_answers_only_for_this_machines_names():
    allowed = settings_value("ALLOWED_HOSTS", {"CLOUDMGR_SECRET_KEY": "k" * 50})

    assert allowed == "['localhost', '127.0.0.1', '[::1]']"


def test_tls_at_the_proxy_makes_cookies_secure_and_sends_hsts():
    environment = {"CLOUDMGR_SECRET_KEY": "k" * 50, "CLOUDMGR_TLS": "true"}

    assert settings_value("SESSION_COOKIE_SECURE", environment) == "True"
    assert settings_value("CSRF_COOKIE_SECURE", environment) == "True"
    assert int(settings_value("SECURE_HSTS_SECONDS", environment)) > 0
