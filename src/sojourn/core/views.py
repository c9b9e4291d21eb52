"""Probes for load balancers and orchestrators."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers and every migration is applied; else 503 with the reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return JsonResponse({"status": "unavailable", "reason": f"database: {exc.__class__.__name__}"}, status=503)
    if pending:
        return JsonResponse({"status": "unavailable", "reason": "migrations pending",
                             "pending": [f"{m.app_label}.{m.name}" for m, _ in pending]}, status=503)
    return JsonResponse({"status": "ready"})
