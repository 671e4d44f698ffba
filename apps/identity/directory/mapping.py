"""Directory groups to roles: CLOUDMGR_LDAP_GROUP_ROLES, applied to a user at each login.

The setting is a JSON list of entries such as

    {"group": "cn=devs,ou=groups,dc=example,dc=org", "role": "project_member", "project": "<project id>"}
    {"group": "cn=ops,ou=groups,dc=example,dc=org", "role": "domain_admin", "domain": "acme/eng"}

The mapping owns the (role, place) pairs it names: a directory user gets each
pair one of their groups maps to and loses each other pair it names. Roles given
by hand on places and roles the mapping does not name are left alone. Changes go
through the role services, so they are audited and taking a role away revokes
the user's tokens.
"""

import json
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.core.actor import Actor
from apps.core.errors import NotFound

from ..lookup import domain_by_path
from ..models import Project, Role
from ..services import roles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupRole:
    group: str
    role: str
    project_id: uuid.UUID | None
    domain: str | None


def _entry(raw):
    if not isinstance(raw, dict) or not raw.get("group") or not raw.get("role"):
        raise ImproperlyConfigured(f"CLOUDMGR_LDAP_GROUP_ROLES entry {raw!r} needs 'group' and 'role'.")
    if ("project" in raw) == ("domain" in raw):
        raise ImproperlyConfigured(f"CLOUDMGR_LDAP_GROUP_ROLES entry {raw!r} needs 'project' or 'domain'.")
    try:
        project_id = uuid.UUID(raw["project"]) if "project" in raw else None
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"CLOUDMGR_LDAP_GROUP_ROLES: {raw['project']!r} is not a project id."
        ) from exc
    return GroupRole(raw["group"].lower(), raw["role"], project_id, raw.get("domain"))


def group_roles():
    try:
        entries = json.loads(settings.CLOUDMGR_LDAP_GROUP_ROLES or "[]")
    except ValueError as exc:
        raise ImproperlyConfigured(f"CLOUDMGR_LDAP_GROUP_ROLES is not JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ImproperlyConfigured("CLOUDMGR_LDAP_GROUP_ROLES must be a JSON list.")
    return [_entry(raw) for raw in entries]


def _place(entry):
    """The Project or Domain an entry names, or None (logged) when it no longer exists."""
    if entry.project_id is not None:
        project = Project.objects.select_related("domain").filter(pk=entry.project_id).first()
        if project is None:
            log.error("CLOUDMGR_LDAP_GROUP_ROLES names project %s, which does not exist", entry.project_id)
        return project
    try:
        return domain_by_path(entry.domain)
    except NotFound:
        log.error("CLOUDMGR_LDAP_GROUP_ROLES names domain %r, which does not exist", entry.domain)
        return None


def _pair_of_assignment(assignment):
    return assignment.role.name, assignment.project_id or assignment.domain_id


def apply_group_roles(user, group_dns):
    """Give and take away the user's mapped roles so they match their directory groups."""
    entries = group_roles()
    if not entries:
        return
    member_of = {dn.lower() for dn in group_dns}
    role_by_name = {role.name: role for role in Role.objects.filter(name__in={e.role for e in entries})}
    managed, wanted = set(), {}
    for entry in entries:
        place = _place(entry)
        role = role_by_name.get(entry.role)
        if role is None:
            log.error("CLOUDMGR_LDAP_GROUP_ROLES names role %r, which does not exist", entry.role)
        if place is None or role is None:
            continue
        pair = (role.name, place.pk)
        managed.add(pair)
        if entry.group in member_of:
            wanted[pair] = (role, place)
    actor = Actor.system("ldap")
    held = {
        _pair_of_assignment(a): a
        for a in user.assignments.select_related("role", "domain", "project__domain", "user__domain")
    }
    for pair, assignment in held.items():
        if pair in managed and pair not in wanted:
            roles.unassign_role(actor, assignment)
    for pair, (role, place) in wanted.items():
        if pair not in held:
            where = {"project": place} if isinstance(place, Project) else {"domain": place}
            roles.assign_role(actor, user=user, role=role, **where)
