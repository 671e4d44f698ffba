"""What the objects that hold quota must hold, so `recalcquota` can compare the claims with what exists.

Each app that claims quota registers its kind of holder in `AppConfig.ready()`:

    register_holder(
        Instance,
        live=~Q(vm_state="deleted"),
        project="project_id",
        fields=("vcpus", "ram_mb"),
        claims=lambda row: {"instances": 1, "vcpus": row["vcpus"], "ram_mb": row["ram_mb"]},
    )

`live` selects the objects that must hold claims; an object outside it (a
deleted instance) must hold none. `claims(row)` is what a live object holds, from
its `fields` (amounts of 0 are not claimed); `project` names the field of its
project, where its claims must be.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class HolderKind:
    model: type
    live: Q
    project: str
    fields: tuple
    claims: Callable

    @property
    def label(self):
        return self.model._meta.label_lower

    def expected(self):
        """{holder id: (project id, {resource: amount})} of every live holder of this kind."""
        rows = self.model._default_manager.filter(self.live).values("pk", self.project, *self.fields)
        return {
            str(row["pk"]): (row[self.project], {r: n for r, n in self.claims(row).items() if n})
            for row in rows.iterator()
        }


_kinds = {}


def register_holder(model, *, live, project, fields, claims):
    _kinds[model] = HolderKind(model, live, project, tuple(fields), claims)


def holder_kinds():
    return list(_kinds.values())


def kind_of(model):
    return _kinds.get(model)
