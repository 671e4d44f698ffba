"""Clear the login locks of an account: `unlock USER` (its own count and every address's)."""

from apps.core.management.base import ServiceCommand
from apps.identity.services.throttle import unlock


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("username")

    def run(self, actor, username, **options):
        cleared = unlock(username)
        self.stdout.write(f"unlocked {username} ({cleared} counter{'s' if cleared != 1 else ''} cleared)")
