from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from apps.core.policy import READ, register_action

        from .registry import register_periodic
        from .services import sweep_overdue
        from .web import portal

        register_action("jobs.job.read", READ, "See jobs and their progress")
        register_periodic("jobs.sweep_overdue", sweep_overdue)
        portal.register()
