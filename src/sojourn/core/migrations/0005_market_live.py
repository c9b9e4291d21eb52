"""A program's market is in set-up until its activation checklist is complete. Markets that ran
before the checklist existed are live from their activation: nothing that worked stops."""

from django.db import migrations, models
from django.db.models import F


def live_from_activation(apps, schema_editor):
    apps.get_model("core", "ProgramMarket").objects.update(live_at=F("activated_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_products_and_targets"),
    ]

    operations = [
        migrations.AddField(model_name="programmarket", name="live_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(live_from_activation, migrations.RunPython.noop),
    ]
