from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "apps.images"
    label = "images"

    def ready(self):
        from django.db.models import Q

        from apps.core.policy import ADMINISTER, PLATFORM_KIND, READ, USE, register_action
        from apps.identity.ownership import register_project_owner
        from apps.images.web import portal
        from apps.jobs.registry import register_job_kind, register_periodic
        from apps.jobs.words import describe_job_kind
        from apps.quotas.holders import register_holder

        from .jobs import run_import
        from .models import Image
        from .periodic import kill_stalled_uploads, purge_deleted
        from .services.common import quota_held
        from .services.data import IMPORT_JOB, settle_import

        for name, kind, description in [
            ("images.image.read", READ, "See a project's images and read their data"),
            ("images.image.create", USE, "Create an image"),
            ("images.image.update", USE, "Rename an image, change its properties, flags and visibility"),
            ("images.image.upload", USE, "Send an image's data"),
            ("images.image.import", USE, "Import an image's data from an HTTP(S) URL"),
            ("images.image.delete", USE, "Delete an image (recoverable until purged)"),
            ("images.image.restore", USE, "Recover an image pending deletion"),
            ("images.image.share", USE, "Share an image with other projects"),
            ("images.member.update", USE, "Accept or reject images shared with a project"),
            ("images.image.deactivate", ADMINISTER, "Deactivate or reactivate an image"),
            ("images.image.move", ADMINISTER, "Move an image to another project"),
            ("images.image.purge", ADMINISTER, "Purge a deleted image before its retention ends"),
            ("images.image.publicize", PLATFORM_KIND, "Make an image public to every project, or not"),
            ("images.image.register_location", PLATFORM_KIND, "Register an external URL as an image"),
            ("images.store.read", PLATFORM_KIND, "See image stores and their usage"),
        ]:
            register_action(name, kind, description)
        register_job_kind(IMPORT_JOB, run=run_import, settle=settle_import)
        describe_job_kind(IMPORT_JOB, "Image import")
        register_periodic("images.kill_stalled_uploads", kill_stalled_uploads)
        register_periodic("images.purge_deleted", purge_deleted)
        portal.register()
        register_holder(
            Image,
            live=~Q(status=Image.DELETED),
            project="owner_id",
            fields=("status", "size_bytes"),
            claims=lambda row: quota_held(row["status"], row["size_bytes"]),
        )
        register_project_owner(
            "images",
            lambda project_ids: (
                Image.objects.filter(owner_id__in=project_ids).exclude(status=Image.DELETED).count()
            ),
        )
