"""Periodic sync: directory users who left the directory, or no longer meet its group conditions,
are disabled in cloudmgr with their tokens revoked and their API keys disabled.

The directory must positively answer "gone": if it cannot be reached or a
search fails, the sync stops and disables nobody.
"""

import logging

from django.conf import settings
from django.db import transaction

from apps.core.actor import Actor

from ..models import User
from ..services import users
from ..services.apikeys import disable_user_api_keys
from . import accounts, config
from .backend import SOURCE

log = logging.getLogger(__name__)


def _departed(connection, directory_config, user):
    account = accounts.find_account(connection, directory_config, user.username)
    return account is None or not accounts.may_log_in(account, directory_config)


def _disable(actor, user):
    with transaction.atomic():
        users.update_user(actor, user, is_active=False)
        keys = disable_user_api_keys(user)
    log.info("disabled directory user %s (gone from the directory; %d API keys disabled)", user, keys)


def sync_directory_users():
    """Disable departed directory users; return how many were disabled."""
    if not settings.CLOUDMGR_LDAP_ENABLED:
        return 0
    directory_config = config.backend_settings()
    connection = accounts.connect(directory_config)
    actor = Actor.system("ldap-sync")
    try:
        departed = [
            user
            for user in User.objects.select_related("domain").filter(source=SOURCE, is_active=True)
            if _departed(connection, directory_config, user)
        ]
    finally:
        connection.unbind_s()
    for user in departed:
        _disable(actor, user)
    return len(departed)
