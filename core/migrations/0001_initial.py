from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    # DeferredTask moved here from evaluation: its table (and any task waiting in it) stays, so
    # only the migration state changes; evaluation 0009 drops it from its own state.
    dependencies = [("evaluation", "0006_deferred_task")]

    operations = [
        migrations.CreateModel(
            name="ResultsVersion",
            fields=[
                ("code", models.CharField(max_length=12, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=32)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DeferredTask",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("task", models.CharField(max_length=200)),
                        ("args", models.JSONField(default=list)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                    ],
                    options={"ordering": ["id"], "db_table": "evaluation_deferredtask"},
                ),
            ],
            database_operations=[],
        ),
    ]
