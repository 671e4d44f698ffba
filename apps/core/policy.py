"""The permission policy: registered actions, the default roles, and what a principal may do.

It sits in core, below every app, because every app asks it; identity holds the
roles, rules and assignments it decides from (apps.identity.grants reads a
user's grants). This is the only module that knows role names. Rules live in
the database (`Rule`: a role may do the actions matching a pattern) and are
read on every request, so a change is obeyed at once by every controller.

A rule pattern is a glob over action names (`identity.project.*`, `*`) or
`@kind`, where every action is registered with one kind:

- read: look at something;
- use: create and operate resources inside a project;
- administer: manage domains, projects, users, roles and quotas;
- platform: run the cloud itself (hosts, rules, public catalogues).

Where a role applies comes from its assignment: on a project, to that project's
objects; on a domain, to everything in the domain's subtree. Platform objects
sit at ROOT, so only assignments on ROOT reach them.
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

READ, USE, ADMINISTER, PLATFORM_KIND = "read", "use", "administer", "platform"
KINDS = (READ, USE, ADMINISTER, PLATFORM_KIND)

CLOUD_ADMIN = "cloud_admin"
DOMAIN_ADMIN = "domain_admin"
PROJECT_MEMBER = "project_member"
PROJECT_READER = "project_reader"

DEFAULT_ROLES = {
    CLOUD_ADMIN: ("Runs the whole cloud.", ["*"]),
    DOMAIN_ADMIN: (
        "Administers a domain and all its sub-domains: projects, users, quotas.",
        [f"@{READ}", f"@{USE}", f"@{ADMINISTER}"],
    ),
    PROJECT_MEMBER: ("Uses the resources of a project.", [f"@{READ}", f"@{USE}"]),
    PROJECT_READER: ("Sees a project's resources, changes nothing.", [f"@{READ}"]),
}

_actions = {}


def register_action(name, kind, description):
    if kind not in KINDS:
        raise ValueError(f"unknown action kind {kind!r}")
    _actions[name] = (kind, description)


def registered_actions():
    return dict(_actions)


def pattern_matches(pattern, action):
    if pattern.startswith("@"):
        return _actions.get(action, (None,))[0] == pattern[1:]
    return fnmatchcase(action, pattern)


def validate_pattern(pattern):
    """True when the pattern names a kind or matches at least one registered action."""
    if pattern.startswith("@"):
        return pattern[1:] in KINDS
    return any(fnmatchcase(action, pattern) for action in _actions)


def actions_matching(patterns):
    return {action for action in _actions if any(pattern_matches(p, action) for p in patterns)}


def platform_actions_matching(patterns):
    """The platform actions among those the patterns match: they apply on ROOT only."""
    return {action for action in actions_matching(patterns) if _actions[action][0] == PLATFORM_KIND}


@dataclass(frozen=True)
class Grant:
    """One rule pattern, effective on a domain subtree (domain_path) or on one project."""

    pattern: str
    domain_path: str | None
    project_id: object | None

    def covers(self, target):
        if self.project_id is not None:
            return target.project_id == self.project_id
        return target.domain_path.startswith(self.domain_path)


_grants_of_user = None


def read_grants_with(loader):
    """How a user's grants are read when a principal first needs them: `loader(user_id)` -> [Grant].

    Identity registers it (apps.identity.grants.load_grants), from its AppConfig.ready().
    """
    global _grants_of_user
    _grants_of_user = loader


class Principal:
    """Who is acting and what they may do. Grants are loaded once, on first use."""

    def __init__(self, user, *, scope_project=None, scope_domain=None, grants=None):
        self.user = user
        self.scope_project = scope_project
        self.scope_domain = scope_domain
        self._grants = grants

    @property
    def grants(self):
        if self._grants is None:
            self._grants = _grants_of_user(self.user.pk) if self.user is not None else []
        return self._grants

    def _in_scope(self, target):
        if self.scope_project is not None:
            return target.project_id == self.scope_project.pk
        if self.scope_domain is not None:
            return target.domain_path.startswith(self.scope_domain.path)
        return True

    def can(self, action, target):
        if not self._in_scope(target):
            return False
        return any(g.covers(target) and pattern_matches(g.pattern, action) for g in self.grants)

    def grants_for(self, action):
        return [g for g in self.grants if pattern_matches(g.pattern, action)]

    def may_grant(self, rule_patterns, target):
        """Delegation: a role can only be given by someone who holds every action it carries."""
        return all(self.can(action, target) for action in actions_matching(rule_patterns))


class SystemPrincipal(Principal):
    """manage.py and the controller's own jobs: everything is allowed."""

    def __init__(self):
        super().__init__(None, grants=[Grant("*", "/", None)])

    def can(self, action, target):
        return True


def default_rules():
    """(role name, description, patterns) for bootstrap."""
    return [(name, desc, patterns) for name, (desc, patterns) in DEFAULT_ROLES.items()]
