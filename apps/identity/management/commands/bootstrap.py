"""Create ROOT, the default roles and rules, and a cloud admin. Safe to run again."""

import os

from django.core.management.base import BaseCommand, CommandError

from apps.identity.services.bootstrap import bootstrap


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--admin-username")
        parser.add_argument(
            "--admin-password",
            help="or set CLOUDMGR_ADMIN_PASSWORD, which keeps it out of the process list",
        )

    def handle(self, *args, admin_username=None, admin_password=None, **options):
        password = admin_password or os.environ.get("CLOUDMGR_ADMIN_PASSWORD")
        if admin_username and not password:
            raise CommandError("--admin-password (or CLOUDMGR_ADMIN_PASSWORD) is required")
        root, admin = bootstrap(admin_username=admin_username, admin_password=password)
        self.stdout.write(f"domain ROOT {root.pk}")
        if admin is not None:
            self.stdout.write(f"cloud admin {admin.username} {admin.pk}")
