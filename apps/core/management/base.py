"""Base for admin commands: errors become one line on stderr and a non-zero exit."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.actor import Actor
from apps.core.errors import ServiceError


class ServiceCommand(BaseCommand):
    """Subclasses implement `run(actor, **options)`; the actor is the system at the command line."""

    def handle(self, *args, **options):
        try:
            return self.run(Actor.system("cli"), **options)
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from error

    def run(self, actor, **options):
        raise NotImplementedError
