from django.db import migrations


class Migration(migrations.Migration):
    # The results tokens (now one per area) and the deferred tasks live in core. The deferred
    # tasks keep their table (core's model names it), so only the state moves; the old single
    # token is dropped — pages are recomputed once under the new per-area tokens.
    dependencies = [
        ("evaluation", "0008_area_counts_due"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="ResultsVersion"),
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="DeferredTask")], database_operations=[]),
    ]
