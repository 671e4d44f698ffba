"""Log directory users in with their directory password, through django-auth-ldap.

A user is created on their first login in CLOUDMGR_LDAP_DOMAIN with
source="ldap" and no usable password; their roles follow their directory groups
(mapping.py) at every login. A local user of the same name is never logged in
from the directory, and a user disabled in cloudmgr stays refused whatever the
directory says.
"""

from django.conf import settings
from django.dispatch import receiver
from django_auth_ldap.backend import LDAPBackend, populate_user

from apps.core.actor import Actor

from ..models import User
from ..services import users
from . import config
from .mapping import apply_group_roles

SOURCE = "ldap"


class DirectoryBackend(LDAPBackend):
    @property
    def settings(self):
        if self._settings is None:
            self._settings = config.backend_settings()
        return self._settings

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.CLOUDMGR_LDAP_ENABLED or not username:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or not user.is_active:
            return None
        if self.settings.GROUP_SEARCH is not None:
            apply_group_roles(user, user.ldap_user.group_dns)
        return user

    def ldap_to_django_username(self, username):
        # Directories match names without regard to case; one directory account is one user.
        return username.lower()

    def get_or_build_user(self, username, ldap_user):
        user = User.objects.select_related("domain").filter(username=username).first()
        if user is None:
            user = users.create_user(
                Actor.system(SOURCE), domain=config.home_domain(), username=username, source=SOURCE
            )
        elif user.source != SOURCE:
            raise ldap_user.AuthenticationFailed(f"{username} is a {user.source} user, not a directory user")
        return user, False

    def get_user(self, user_id):
        return User.objects.select_related("domain").filter(pk=user_id, is_active=True, source=SOURCE).first()


@receiver(populate_user, sender=DirectoryBackend)
def _fit_directory_attributes(sender, user, ldap_user, **kwargs):
    """Directory values may be longer than the columns they are copied into."""
    user.full_name = user.full_name[: User._meta.get_field("full_name").max_length]
    if len(user.email) > User._meta.get_field("email").max_length:
        user.email = ""
