"""``python -m agent enroll --controller URL --token T`` and ``python -m agent run``.

Every ``run`` option also has an environment variable, ``CLOUDMGR_AGENT_<OPTION>``
(e.g. ``--libvirt-uri`` and ``CLOUDMGR_AGENT_LIBVIRT_URI``); an option given
on the command line wins.
"""

import argparse
import logging
import sys
from pathlib import Path

from .controller_client import ControllerError
from .enroll import EnrollmentError, enroll
from .settings import DEFAULT_DATA_DIR, AgentSettings


def parser():
    top = argparse.ArgumentParser(prog="python -m agent", description="cloudmgr host agent")
    commands = top.add_subparsers(dest="command", required=True)

    enroll_cmd = commands.add_parser("enroll", help="create this host's key pair and register it")
    enroll_cmd.add_argument("--controller", required=True, help="the controller's base URL")
    enroll_cmd.add_argument(
        "--token", required=True, help="the one-time token printed by `manage.py addhost`"
    )
    enroll_cmd.add_argument("--host", default="", help="this host's name (default: the one registered)")
    enroll_cmd.add_argument("--data-dir", help=f"default {DEFAULT_DATA_DIR} or CLOUDMGR_AGENT_DATA_DIR")

    run_cmd = commands.add_parser("run", help="run the agent (Celery worker on host.<name>)")
    run_cmd.add_argument("--broker-url")
    run_cmd.add_argument("--controller-url")
    run_cmd.add_argument("--host")
    run_cmd.add_argument("--libvirt-uri", help="qemu:///system on real hosts, test:///default for tests")
    run_cmd.add_argument("--data-dir")
    run_cmd.add_argument(
        "--controller-public-key",
        dest="controller_public_keys",
        action="append",
        help="base64 raw Ed25519 key of the controller (repeatable; default: saved by enroll)",
    )
    run_cmd.add_argument("--driver", choices=("libvirt", "fake"))
    run_cmd.add_argument("--domain-type", choices=("auto", "kvm", "qemu"))
    run_cmd.add_argument("--concurrency", type=int)
    run_cmd.add_argument("--heartbeat-seconds", type=int)
    run_cmd.add_argument("--network-driver", choices=("linux", "none"))
    run_cmd.add_argument("--network-namespace", help="the namespace the network driver works in")
    run_cmd.add_argument("--trunk-interface", help="VLAN networks are tagged on this interface")
    run_cmd.add_argument("--metrics-seconds", type=int, help="sampling period (0: no monitoring)")
    run_cmd.add_argument("--prometheus-listen", help="address:port to serve samples for Prometheus")
    run_cmd.add_argument("--log-level")
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if k != "command"}
    if args.command == "enroll":
        settings = AgentSettings.load(overrides={"data_dir": args.data_dir})
        logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
        try:
            response = enroll(Path(settings.data_dir), args.controller, args.token, args.host)
        except (EnrollmentError, ControllerError) as exc:
            print(f"enrollment failed: {exc}", file=sys.stderr)
            return 1
        print(f"enrolled as host {response.host}; start the agent with: python -m agent run")
        return 0

    settings = AgentSettings.load(overrides=overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .worker import SettingsError, run  # Celery is only needed to run

    try:
        run(settings)
    except (SettingsError, EnrollmentError) as exc:
        print(f"the agent cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
