from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from apps.identity.policy import READ, register_action

        from . import periodic_tasks  # noqa: F401

        register_action("jobs.job.read", READ, "See jobs and their progress")
