"""Create a token Prometheus presents to read /metrics, and print it once: `createscrapetoken NAME`.

`--delete` removes the token of that name instead.
"""

from apps.core.errors import NotFound
from apps.core.management.base import ServiceCommand
from apps.monitoring.scrape_tokens import create_scrape_token, delete_scrape_token


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--delete", action="store_true", help="delete the token of this name")

    def run(self, actor, name, delete, **options):
        if delete:
            if not delete_scrape_token(actor, name):
                raise NotFound(f"No scrape token {name!r}.")
            self.stdout.write(f"scrape token {name} deleted")
            return
        _, token = create_scrape_token(actor, name)
        self.stdout.write(f"scrape token {name} (shown once): {token}")
