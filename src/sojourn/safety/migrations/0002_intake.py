from django.db import migrations


class Migration(migrations.Migration):
    """The referral becomes the intake: one record per possible adverse event from any channel."""

    dependencies = [
        ("safety", "0001_initial"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel("SafetyReferral", "Intake"),
    ]
