"""Run the controller: HTTP server, job workers and periodic work in one process, until SIGTERM."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.jobs.controller import Controller, parse_listen

MAX_NAME_LENGTH = 40


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--listen",
            default=settings.CLOUDMGR_LISTEN,
            help="HOST:PORT to serve HTTP on (default CLOUDMGR_LISTEN); port 0 takes a free port",
        )
        parser.add_argument(
            "--name", default="", help="this controller's name in logs and job records (default: host name)"
        )

    def handle(self, *args, listen, name, **options):
        try:
            address = parse_listen(listen)
        except ValueError as error:
            raise CommandError(f"--listen: {error}") from error
        if len(name) > MAX_NAME_LENGTH:
            raise CommandError(f"--name: at most {MAX_NAME_LENGTH} characters")
        controller = Controller(address, name)
        try:
            controller.bind()
        except OSError as error:
            raise CommandError(f"cannot listen on {listen}: {error}") from error
        if not controller.run():
            raise CommandError("the HTTP server stopped unexpectedly; see the log above")
