"""Fail when anything under agent/ imports Django or the controller's packages.

The agent runs on hypervisor hosts without database credentials; see DESIGN.md.
"""

import ast
import pathlib
import sys

FORBIDDEN = ("django", "rest_framework", "apps", "cloudmgr")


def violations(root):
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    yield f"{path}:{node.lineno}: agent code imports {name}"


def main():
    root = pathlib.Path(__file__).resolve().parent.parent / "agent"
    found = list(violations(root))
    for line in found:
        print(line, file=sys.stderr)
    if found:
        sys.exit(1)
    print("agent import rule: ok")


if __name__ == "__main__":
    main()
