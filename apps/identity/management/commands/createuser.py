"""Create a user: `createuser NAME --domain acme --password …` (or CLOUDMGR_USER_PASSWORD)."""

import os

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path
from apps.identity.services.users import create_user


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--domain", default="ROOT", help="domain path or id")
        parser.add_argument("--password")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")

    def run(self, actor, username, domain, password, full_name, email, **options):
        user = create_user(
            actor,
            domain=domain_by_path(domain),
            username=username,
            password=password or os.environ.get("CLOUDMGR_USER_PASSWORD"),
            full_name=full_name,
            email=email,
        )
        self.stdout.write(f"user {username} {user.pk}")
