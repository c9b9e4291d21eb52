"""Deploy checks: `sojourn check --deploy` fails on settings unsafe for production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from sojourn.core.crypto import KeyMaterialError, decode_master_key

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
