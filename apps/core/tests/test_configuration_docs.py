"""Every CLOUDMGR_* variable the controller reads is documented: docs/configuration.md and .env.example.

The variables are found in the controller's source (settings, apps, commands),
not in a list kept by hand, so a new one cannot slip through undocumented.
Scripts that are API clients (their credentials are not settings) and the
agent (docs/agent.md) are not the controller.
"""

import re

from django.conf import settings

SOURCES = ["cloudmgr/**/*.py", "apps/**/*.py"]
# A name in quotes; a prefix ending in "_" (like the agent's CLOUDMGR_AGENT_) is not a variable.
VARIABLE = re.compile(r"""["'](CLOUDMGR_[A-Z0-9_]*[A-Z0-9])["']""")


def variables_read_by_the_controller():
    found = {}
    for pattern in SOURCES:
        for path in settings.BASE_DIR.glob(pattern):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for name in VARIABLE.findall(path.read_text()):
                found.setdefault(name, str(path.relative_to(settings.BASE_DIR)))
    return found


def test_the_controller_reads_variables_this_test_can_find():
    found = variables_read_by_the_controller()
    assert {"CLOUDMGR_SECRET_KEY", "CLOUDMGR_DATABASE_URL", "CLOUDMGR_ADMIN_PASSWORD"} <= set(found)


def test_every_variable_has_a_row_in_the_configuration_docs():
    docs = (settings.BASE_DIR / "docs" / "configuration.md").read_text()
    rows = set(re.findall(r"^\| `(CLOUDMGR_[A-Z0-9_]+)` \|", docs, re.MULTILINE))
    missing = {name: where for name, where in variables_read_by_the_controller().items() if name not in rows}
    assert not missing, "add a row to docs/configuration.md for: " + ", ".join(
        f"{name} ({where})" for name, where in sorted(missing.items())
    )


def test_no_variable_has_two_rows_in_the_configuration_docs():
    docs = (settings.BASE_DIR / "docs" / "configuration.md").read_text()
    rows = re.findall(r"^\| `(CLOUDMGR_[A-Z0-9_]+)` \|", docs, re.MULTILINE)
    assert sorted({name for name in rows if rows.count(name) > 1}) == []


def test_every_variable_is_in_the_env_example():
    example = (settings.BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?(CLOUDMGR_[A-Z0-9_]+)=", example, re.MULTILINE))
    missing = sorted(set(variables_read_by_the_controller()) - listed)
    assert not missing, "add to .env.example: " + ", ".join(missing)
