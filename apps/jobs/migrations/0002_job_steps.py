from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="step",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="step_began_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="task_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunSQL("UPDATE jobs_job SET task_id = id", reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="job",
            name="task_id",
            field=models.UUIDField(editable=False, unique=True),
        ),
    ]
