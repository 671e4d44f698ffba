"""Running scripts/build_test_guest.py --upload as its own process, signed with an API key."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_test_guest.py"


def run_script(out_dir, url, access_key, secret):
    """Build the test guest into out_dir and upload its images to the controller at url."""
    environment = {**os.environ, "CLOUDMGR_ACCESS_KEY": access_key, "CLOUDMGR_SECRET": secret}
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(out_dir), "--upload", url, "--name", "guest"],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
        check=False,
    )
