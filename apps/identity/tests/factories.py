"""factory_boy factories for identity objects, shared by every app's tests."""

import uuid

import factory

from apps.core.tree import ROOT_DOMAIN_ID, ROOT_PATH
from apps.identity.models import Domain, Project, Role, RoleAssignment, User
from apps.quotas import services as quotas

PASSWORD = "a-long-test-password"


def root_domain():
    root, _ = Domain.objects.get_or_create(
        id=ROOT_DOMAIN_ID, defaults={"name": "ROOT", "path": ROOT_PATH, "depth": 0}
    )
    return root


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain
        skip_postgeneration_save = True

    id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"domain-{n}")
    parent = factory.LazyFunction(root_domain)
    path = factory.LazyAttribute(lambda o: f"{o.parent.path}{o.id.hex}/")
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1)

    @factory.post_generation
    def quota_rows(obj, create, extracted, **kwargs):
        if create:
            quotas.ensure_rows(domain_ids=[obj.pk])


def domain_chain(depth):
    """Domains nested from depth 1 under ROOT down to `depth`, the deepest last."""
    chain = [DomainFactory()]
    while len(chain) < depth:
        chain.append(DomainFactory(parent=chain[-1]))
    return chain


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"project-{n}")
    domain = factory.SubFactory(DomainFactory)

    @factory.post_generation
    def quota_rows(obj, create, extracted, **kwargs):
        if create:
            quotas.ensure_rows(project_ids=[obj.pk])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    domain = factory.SubFactory(DomainFactory)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


def role(name):
    """A default role, created with its default rules when the test database lacks it."""
    from apps.identity.services.bootstrap import bootstrap

    if not Role.objects.filter(name=name).exists():
        bootstrap()
    return Role.objects.get(name=name)


def grant(user, role_name, on):
    """Give `user` the role on a Domain or a Project, bypassing the policy (test set-up)."""
    key = "project" if isinstance(on, Project) else "domain"
    return RoleAssignment.objects.create(user=user, role=role(role_name), **{key: on})
