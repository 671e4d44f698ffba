"""Users: create, change, disable, set or change passwords, delete."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.audit.recorder import audited
from apps.core.errors import PermissionDenied, ValidationFailed

from ..models import User
from .common import apply_changes, require, save_unique
from .last_admin import refuse_losing_the_last_cloud_admin
from .revocation import revoke_user_tokens
from .roles import require_may_give


def _validated_password(password, user=None):
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), code="weak_password", details={"password": exc.messages}
        ) from exc
    return password


def require_holds_what_user_holds(actor, user):
    """Refuse to manage a user who holds a role the actor could not give.

    Otherwise a domain admin could reset the password of a cloud admin whose home
    domain is in its subtree, and log in as them.
    """
    assignments = user.assignments.select_related("role", "domain", "project__domain")
    for assignment in assignments.prefetch_related("role__rules"):
        where = assignment.domain or assignment.project
        require_may_give(
            actor,
            assignment.role,
            where,
            f"{user} holds the role {assignment.role.name} on {where}, which is more than you hold.",
        )


def create_user(actor, *, domain, username, password=None, full_name="", email="", source="local"):
    action = "identity.user.create"
    with audited(actor, action, target=domain.target()) as op:
        require(actor, action, domain.target(), f"You may not create users in {domain}.")
        user = User(domain=domain, username=username, full_name=full_name, email=email, source=source)
        op.object = user
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(_validated_password(password, user))
        save_unique(user, f"The username '{username}' is taken.")
    return user


def update_user(actor, user, *, full_name=None, email=None, is_active=None):
    action = "identity.user.update"
    with audited(actor, action, target=user.target(), obj=user) as op:
        require(actor, action, user.target(), f"You may not change user {user}.")
        require_holds_what_user_holds(actor, user)
        if actor.user is not None and actor.user.pk == user.pk and is_active is False:
            raise ValidationFailed("You cannot disable yourself.", code="self_disable")
        if is_active is False and user.is_active:
            refuse_losing_the_last_cloud_admin(user=user)
        changes = apply_changes(user, full_name=full_name, email=email, is_active=is_active)
        op.details = {"changes": changes}
        user.save()
        if changes.get("is_active") is False:
            op.details["tokens_revoked"] = revoke_user_tokens(user)
    return user


def set_password(actor, user, new_password, *, old_password=None):
    """Admins set a user's password; users change their own by giving the old one.

    Either way every token of the user is revoked.
    """
    action = "identity.user.update"
    with audited(actor, "identity.user.set_password", target=user.target(), obj=user):
        own = actor.user is not None and actor.user.pk == user.pk
        if own:
            if old_password is None or not user.check_password(old_password):
                raise PermissionDenied("The current password is wrong.", code="wrong_password")
        else:
            require(actor, action, user.target(), f"You may not set the password of {user}.")
            require_holds_what_user_holds(actor, user)
        if user.source != "local":
            raise ValidationFailed("This user's password is kept in the directory.", code="external_user")
        user.set_password(_validated_password(new_password, user))
        user.save(update_fields=["password"])
        revoke_user_tokens(user)
    return user


def delete_user(actor, user):
    action = "identity.user.delete"
    with audited(actor, action, target=user.target(), obj=user):
        require(actor, action, user.target(), f"You may not delete user {user}.")
        require_holds_what_user_holds(actor, user)
        if actor.user is not None and actor.user.pk == user.pk:
            raise ValidationFailed("You cannot delete yourself.", code="self_delete")
        refuse_losing_the_last_cloud_admin(user=user)
        user.delete()
