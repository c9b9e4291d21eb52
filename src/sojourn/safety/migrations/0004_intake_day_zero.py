# Written by hand: the intakes' data in a migration of its own (on PostgreSQL a table whose rows were
# just updated cannot be altered in the same transaction), then day zero required and the constraints.

from django.db import migrations, models


def _intakes_from_referrals(apps, schema_editor):
    """Day zero of a referral is when it was written. "assessed" and "forwarded" were never set outside
    tests and no case rows exist for them: they go back to open, so a person decides them again (the
    safe direction for pharmacovigilance: nothing is taken as done that was not recorded as done)."""
    Intake = apps.get_model("safety", "Intake")
    Intake.objects.filter(day_zero__isnull=True).update(day_zero=models.F("created_at"))
    Intake.objects.exclude(status="open").update(status="open")


class Migration(migrations.Migration):

    dependencies = [
        ('safety', '0003_cases'),
    ]

    operations = [
        migrations.RunPython(_intakes_from_referrals, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='intake',
            name='day_zero',
            field=models.DateTimeField(),
        ),
        migrations.AddConstraint(
            model_name='intake',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['open', 'case', 'not_ae'])), name='safety_intake_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='intake',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'case'), _negated=True), ('case__isnull', False), _connector='OR'), name='safety_intake_case_named'),
        ),
        migrations.AddConstraint(
            model_name='intake',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'not_ae'), _negated=True), models.Q(('decision_reason', ''), _negated=True), _connector='OR'), name='safety_intake_not_ae_has_reason'),
        ),
    ]
