"""API tokens gain a scope, an expiry and a successor; staff profiles can be service accounts.

Tokens issued before expiries existed run for 90 days from this migration, the default term of a new
token, so no integration stops at the upgrade and none runs forever."""

from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def give_expiries(apps, schema_editor):
    ApiToken = apps.get_model("people", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=timezone.now() + timedelta(days=90))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_glob_constraints"),
        ("people", "0006_rate_counters"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffprofile",
            name="service_program",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="service_accounts", to="core.program"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="program",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="core.program"),
        ),
        migrations.AddField(model_name="apitoken", name="markets", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(model_name="apitoken", name="permissions", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(model_name="apitoken", name="expires_at", field=models.DateTimeField(null=True)),
        migrations.RunPython(give_expiries, migrations.RunPython.noop),
        migrations.AlterField(model_name="apitoken", name="expires_at", field=models.DateTimeField()),
        migrations.AddField(
            model_name="apitoken",
            name="replaced_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="people.apitoken"),
        ),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["user", "expires_at"], name="api_token_owner_idx"),
        ),
    ]
