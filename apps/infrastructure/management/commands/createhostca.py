"""Create the CA that gives hosts their TLS certificates at enrollment: `createhostca`.

Writes CLOUDMGR_HOST_CA_KEY_FILE (the private key, 0600: a secret, like the task
signing key) and CLOUDMGR_HOST_CA_CERT_FILE (the certificate). Hosts enrolled
before the CA existed get their certificate when they enroll again.
"""

from django.conf import settings
from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.infrastructure import host_ca


class Command(ServiceCommand):
    help = __doc__

    def run(self, actor, **options):
        key_path, certificate_path = settings.CLOUDMGR_HOST_CA_KEY_FILE, settings.CLOUDMGR_HOST_CA_CERT_FILE
        try:
            certificate = host_ca.create_files(key_path, certificate_path)
        except FileExistsError as exc:
            raise CommandError(f"{key_path} exists: the hosts' certificates depend on it") from exc
        self.stdout.write(f"host CA key written to {key_path}")
        until = f"{certificate.not_valid_after_utc:%Y-%m-%d}"
        self.stdout.write(f"host CA certificate written to {certificate_path} (valid until {until})")
