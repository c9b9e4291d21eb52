"""Migration operations of our own. Kept small and stable: old migrations import them."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_foreign_key_index(model_name: str, field_name: str, field: Any) -> migrations.SeparateDatabaseAndState:
    """Stop indexing a foreign key on its own (another index leads with its column).

    Django's AlterField would rebuild the whole table on SQLite (a copy of every event, twice, on a
    large program); dropping the one index it made is all the database needs."""

    def _names(apps: Any, schema_editor: Any) -> tuple[str, str, str]:
        model = apps.get_model(*model_name.split("."))
        column = model._meta.get_field(field_name).column
        table = model._meta.db_table
        return table, column, schema_editor._create_index_name(table, [column], suffix="")

    def forwards(apps: Any, schema_editor: Any) -> None:
        _table, _column, name = _names(apps, schema_editor)
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps: Any, schema_editor: Any) -> None:
        table, column, name = _names(apps, schema_editor)
        q = schema_editor.quote_name
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} ({q(column)})")

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(forwards, backwards)],
        state_operations=[migrations.AlterField(model_name=model_name.split(".")[1], name=field_name, field=field)],
    )
