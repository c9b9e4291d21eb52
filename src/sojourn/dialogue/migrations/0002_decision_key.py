from django.db import migrations, models


def key_existing(apps, schema_editor):
    Decision = apps.get_model("dialogue", "Decision")
    for decision in Decision.objects.filter(key__isnull=True).only("pk"):
        decision.key = f"legacy:{decision.pk}"
        decision.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("dialogue", "0001_initial")]

    operations = [
        migrations.AddField(model_name="decision", name="key", field=models.CharField(max_length=160, null=True)),
        migrations.RunPython(key_existing, migrations.RunPython.noop),
        migrations.AlterField(model_name="decision", name="key",
                              field=models.CharField(max_length=160, unique=True)),
    ]
