"""Run the LDAP directory sync now: disable users who left the directory (it also runs periodically)."""

import ldap
from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.directory.sync import sync_directory_users


class Command(ServiceCommand):
    help = __doc__

    def run(self, actor, **options):
        try:
            disabled = sync_directory_users()
        except ldap.LDAPError as error:
            description = (
                error.args[0].get("desc", "") if error.args and isinstance(error.args[0], dict) else ""
            )
            raise CommandError(
                f"directory_unreachable: {description or error}; nobody was disabled"
            ) from error
        self.stdout.write(f"disabled {disabled} directory users")
