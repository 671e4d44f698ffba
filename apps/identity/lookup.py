"""Find domains, projects and users by name, for admin commands."""

import uuid

from apps.core.errors import NotFound
from apps.core.tree import ROOT_DOMAIN_ID

from .models import Domain, Project, User


def domain_by_path(path):
    """'ROOT', '', 'acme' or 'acme/eng' (names below ROOT, slash-separated) or a domain id."""
    try:
        domain_id = uuid.UUID(path)
    except ValueError:
        pass
    else:
        domain = Domain.objects.filter(pk=domain_id).first()
        if domain is None:
            raise NotFound(f"No domain {path!r}.")
        return domain
    domain = Domain.objects.filter(pk=ROOT_DOMAIN_ID).first()
    if domain is None:
        raise NotFound("There is no ROOT domain yet: run manage.py bootstrap first.", code="not_bootstrapped")
    names = [n for n in path.split("/") if n]
    if names and names[0] == "ROOT":
        names = names[1:]
    for name in names:
        domain = Domain.objects.filter(parent=domain, name=name).first()
        if domain is None:
            raise NotFound(f"No domain {path!r}.")
    return domain


def project_by_name(domain_path, name):
    project = (
        Project.objects.select_related("domain").filter(domain=domain_by_path(domain_path), name=name).first()
    )
    if project is None:
        raise NotFound(f"No project {name!r} in domain {domain_path!r}.")
    return project


def user_by_name(username):
    user = User.objects.select_related("domain").filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user
