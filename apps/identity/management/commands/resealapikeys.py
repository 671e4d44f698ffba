"""Re-encrypt API-key secrets under CLOUDMGR_API_KEY_ENCRYPTION_KEY after a passphrase rotation.

Keep the old passphrase in CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS until this has run.
"""

from apps.core.management.base import ServiceCommand
from apps.identity.services.apikeys import reseal_all


class Command(ServiceCommand):
    help = __doc__

    def run(self, actor, **options):
        resealed, unopenable = reseal_all()
        self.stdout.write(f"resealed {resealed} API keys")
        if unopenable:
            self.stderr.write(
                f"{unopenable} API keys were sealed with a passphrase that is not configured;"
                " they stay unusable until it is, or until their owners create new keys"
            )
