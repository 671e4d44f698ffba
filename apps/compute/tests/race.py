"""Instance creates raced from separate processes, for the concurrency tests.

The racers and their gate are apps/core/tests/racers.py; this module is the racing
side (`python -m apps.compute.tests.race`): each racer loads the user's grants
before the gate, so only `create_instance` races.
"""

from agent import signing
from apps.core.tests.racers import Racers, serve


def create_job(user, project, offering, image, **fields):
    return {
        "user": str(user.pk),
        "project": str(project.pk),
        "offering_id": str(offering.pk),
        "image_id": str(image.pk),
        **fields,
    }


def compute_racers(count, url):
    """`count` racers creating instances; use as a context manager.

    They get a signing key and a broker nobody listens on: the creates commit and
    their spawn tasks cannot be sent, which leaves them to the periodic dispatcher
    (not running here).
    """
    key = signing.private_key_to_pem(signing.generate_private_key()).decode()
    environment = {"CLOUDMGR_TASK_SIGNING_KEY": key, "CLOUDMGR_BROKER_URL": "redis://127.0.0.1:9/0"}
    return Racers(count, url, __name__, environment=environment)


def _prepare(job):
    from django.contrib.contenttypes.models import ContentType

    from apps.compute.services.instances import create_instance
    from apps.core.actor import Actor
    from apps.core.policy import Principal
    from apps.identity.models import Project, User

    # Racers outlive a test's database flush, which gives the content types new ids.
    ContentType.objects.clear_cache()
    actor = Actor(Principal(User.objects.get(pk=job.pop("user"))))
    project = Project.objects.select_related("domain").get(pk=job.pop("project"))
    actor.principal.grants  # noqa: B018  (loaded before the gate: only the create races)

    def create():
        instance, _job = create_instance(actor, project, name="raced", **job)
        return {"ok": True, "instance": str(instance.pk), "host": str(instance.host_id)}

    return create


if __name__ == "__main__":
    serve(_prepare)
