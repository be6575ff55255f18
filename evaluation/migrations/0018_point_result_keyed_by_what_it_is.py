"""Point results keyed by (code, period, point, round, stage), with no id column.

Django cannot turn an existing table's primary key into a composite one, so the rows move: a new
table with the key, the rows copied over, the old table dropped and the new one renamed to it.
Backwards the same way, into a table with an id again."""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "division_code, period, point_id, round_key, stage, value, reference, previous_value, verdict, computed_at"


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0017_result_keys_period_second"),
    ]

    operations = [
        migrations.CreateModel(
            name="PointResultKeyed",
            fields=[
                ("pk", models.CompositePrimaryKey("division_code", "period", "point", "round_key", "stage", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("division_code", models.CharField(max_length=12)),
                ("previous_value", models.DecimalField(decimal_places=6, max_digits=20, null=True)),
                ("period", models.PositiveSmallIntegerField()),
                ("round_key", models.PositiveIntegerField(default=0)),
                ("stage", models.CharField(choices=[("kindergarten", "Kindergarten"), ("primary", "Primary school"),
                                                    ("junior", "Junior middle school"), ("all", "Township")], max_length=15)),
                ("value", models.DecimalField(decimal_places=6, max_digits=20, null=True)),
                ("reference", models.DecimalField(decimal_places=6, max_digits=20, null=True)),
                ("verdict", models.CharField(choices=[("attained", "attained"), ("basic", "basically attained"), ("not_attained", "not attained"),
                                                      ("insufficient", "insufficient data")], max_length=15)),
                ("computed_at", models.DateTimeField(auto_now=True)),
                ("point", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                            to="evaluation.observationpoint")),
            ],
        ),
        migrations.RunSQL(
            f"INSERT INTO evaluation_pointresultkeyed ({COLUMNS}) SELECT {COLUMNS} FROM evaluation_pointresult",
            reverse_sql=f"INSERT INTO evaluation_pointresult ({COLUMNS}) SELECT {COLUMNS} FROM evaluation_pointresultkeyed",
        ),
        migrations.DeleteModel(name="PointResult"),
        migrations.RenameModel(old_name="PointResultKeyed", new_name="PointResult"),
        migrations.AlterModelOptions(name="pointresult", options={"verbose_name": "point result", "verbose_name_plural": "point results"}),
    ]
