from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_platform_rows(sender: AppConfig, **kwargs: object) -> None:
    """Create the audit chain head and the system keys after every migrate (and test flush)."""
    from sojourn.core.models import AuditChainHead
    from sojourn.core.services.keys import ensure_system_keys

    AuditChainHead.objects.get_or_create(pk=1)
    ensure_system_keys()


class CoreConfig(AppConfig):
    name = "sojourn.core"
    label = "core"
    verbose_name = "Sojourn core"

    def ready(self) -> None:
        # Imported for what they register: the deploy checks, and the __glob lookup that migrations use.
        from sojourn.core import checks, constraints  # noqa: F401  (imported for what they register)

        post_migrate.connect(_ensure_platform_rows, sender=self, dispatch_uid="sojourn-platform-rows")
