"""Deploy checks: `sojourn check --deploy` fails on settings unsafe for production."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connection

from sojourn.core.crypto import KeyMaterialError, decode_master_key
from sojourn.core.db import tables_without_statistics
from sojourn.core.replicas import replica_configured, replica_problem

# Names that never reach a deployment from outside (testserver is what the test client sends).
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}


@register(Tags.security, deploy=True)
def sojourn_deploy_checks(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    if settings.SOJOURN_SECRET_KEY_GENERATED:
        errors.append(Error("SOJOURN_SECRET_KEY is not set; the demo key generated in var/ is in use.",
                            hint="Set SOJOURN_SECRET_KEY (or SOJOURN_SECRET_KEY_FILE).", id="sojourn.E001"))
    if settings.SOJOURN_MASTER_KEY_GENERATED:
        errors.append(Error("SOJOURN_MASTER_KEY is not set; the demo master key generated in var/ is in use.",
                            hint="Set SOJOURN_MASTER_KEY from your key management (32 bytes, URL-safe base64).",
                            id="sojourn.E002"))
    try:
        decode_master_key(settings.SOJOURN_MASTER_KEY)
    except KeyMaterialError as exc:
        errors.append(Error(f"SOJOURN_MASTER_KEY is unusable: {exc}", id="sojourn.E003"))
    if settings.DEBUG:
        errors.append(Error("SOJOURN_DEBUG is on.", hint="Unset SOJOURN_DEBUG in production.", id="sojourn.E004"))
    if not settings.SOJOURN_HTTPS:
        errors.append(Error("SOJOURN_HTTPS is off: session and CSRF cookies would travel without TLS.",
                            hint="Serve over HTTPS and set SOJOURN_HTTPS=true.", id="sojourn.E005"))
    if set(settings.ALLOWED_HOSTS) <= LOCAL_HOSTS or "*" in settings.ALLOWED_HOSTS:
        errors.append(Error("SOJOURN_ALLOWED_HOSTS names no public host (or allows every host).",
                            hint="Set SOJOURN_ALLOWED_HOSTS to the host names you serve.", id="sojourn.E006"))
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        errors.append(Error("The database is not PostgreSQL; SQLite is for demos and single-user trials.",
                            hint="Set SOJOURN_DATABASE_URL=postgres://…", id="sojourn.E007"))
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        errors.append(Error("No SMTP server is configured; mail would be written to files.",
                            hint="Set SOJOURN_EMAIL_HOST and its credentials.", id="sojourn.E008"))
    generated = [name for name in settings.SOJOURN_WEBHOOK_SECRETS_GENERATED  # no SMS provider, no SMS callbacks
                 if name != "SOJOURN_SMS_WEBHOOK_SECRET" or settings.SOJOURN_SMS_PROVIDER != "local"]
    if generated:
        errors.append(Error(f"{' and '.join(generated)} not set; the secrets generated "
                            "in var/ are in use, which no provider knows: its callbacks would all be refused.",
                            hint="Set each to the signing secret agreed with the provider (whsec_…), or *_FILE.",
                            id="sojourn.E009"))
    return errors


@register(Tags.database, deploy=True)
def sojourn_database_checks(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """What the database must keep up for Sojourn's queries to stay fast (docs/postgresql.md): statistics
    on every table that holds rows and, on PostgreSQL, autovacuum to keep them fresh as tables grow. A
    database check: `sojourn check --deploy --database default` runs it."""
    if not kwargs.get("databases"):  # Django's own database checks do the same: asked for, or not run
        return []
    warnings: list[Warning] = []
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for name, check_id in (("autovacuum", "sojourn.W010"), ("track_counts", "sojourn.W011")):
                    cursor.execute(f"SHOW {name}")
                    if cursor.fetchone()[0] != "on":
                        warnings.append(Warning(
                            f"PostgreSQL's {name} is off: the planner's statistics go stale as tables grow, and "
                            "dead rows are never reclaimed.", hint=f"Set {name} = on in postgresql.conf.",
                            id=check_id))
        missing = tables_without_statistics([m._meta.db_table for m in apps.get_models() if m._meta.managed])
    except DatabaseError as error:
        return [Warning(f"The database could not be asked about its statistics: {error}", id="sojourn.W013")]
    if replica_configured() and (problem := replica_problem()):
        warnings.append(Warning(f"The replica of SOJOURN_REPLICA_URL cannot serve analytics: {problem}. They read "
                                "the primary meanwhile.", hint="Point SOJOURN_REPLICA_URL at a hot standby of the "
                                "primary (docs/postgresql.md), or unset it.", id="sojourn.W014"))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        warnings.append(Warning(
            f"{len(missing)} table(s) hold rows but have no planner statistics ({shown}): queries on them may "
            "be planned as full reads.", hint="Run `sojourn migrate` (it refreshes them) or ANALYZE.",
            id="sojourn.W012"))
    return warnings

