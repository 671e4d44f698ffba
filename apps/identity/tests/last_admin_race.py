"""Changes that could remove the last cloud admin, raced from separate processes.

The racing side of test_last_cloud_admin.py (`python -m apps.identity.tests.last_admin_race`),
with the gate of apps/core/tests/racers.py. A job names the change and its object.
"""

from apps.core.tests.racers import Racers, serve


def unassign_job(assignment_id):
    return {"op": "unassign", "id": assignment_id}


def delete_user_job(user_id):
    return {"op": "delete_user", "id": str(user_id)}


def disable_user_job(user_id):
    return {"op": "disable_user", "id": str(user_id)}


def last_admin_racers(count, url):
    return Racers(count, url, __name__)


def _prepare(job):
    from apps.core.actor import Actor
    from apps.identity.models import RoleAssignment, User
    from apps.identity.services import roles, users

    actor = Actor.system("test")
    if job["op"] == "unassign":
        assignment = RoleAssignment.objects.select_related("role", "user").get(pk=job["id"])
        return lambda: roles.unassign_role(actor, assignment) or {"ok": True}
    user = User.objects.get(pk=job["id"])
    if job["op"] == "delete_user":
        return lambda: users.delete_user(actor, user) or {"ok": True}
    return lambda: users.update_user(actor, user, is_active=False) and {"ok": True}


if __name__ == "__main__":
    serve(_prepare)
