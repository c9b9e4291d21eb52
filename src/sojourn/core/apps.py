from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_platform_rows(sender: AppConfig, **kwargs: object) -> None:
    """Create the audit chain head and the system keys after every migrate (and test flush)."""
    from sojourn.core.models import AuditChainHead
    from sojourn.core.services.system_keys import ensure_system_keys

    AuditChainHead.objects.get_or_create(pk=1)
    ensure_system_keys()


def _refresh_statistics(sender: AppConfig, **kwargs: object) -> None:
    """After `migrate` (not after a test's flush, which sends the same signal with no plan): a new or
    rebuilt table starts with no statistics, and the planner guesses badly without them."""
    if kwargs.get("plan") is not None:
        from sojourn.core.db import refresh_statistics

        refresh_statistics()


class CoreConfig(AppConfig):
    name = "sojourn.core"
    label = "core"
    verbose_name = "Sojourn core"

    def ready(self) -> None:
        # Imported for what they register: the deploy checks, and the __glob lookup that migrations use.
        from sojourn.core import checks, constraints  # noqa: F401  (imported for what they register)

        post_migrate.connect(_ensure_platform_rows, sender=self, dispatch_uid="sojourn-platform-rows")
        post_migrate.connect(_refresh_statistics, sender=self, dispatch_uid="sojourn-statistics")
        # Every app's subscriptions and exports modules connect their effects to the hooks (core/hooks.py).
        from sojourn.core import hooks

        hooks.discover()
