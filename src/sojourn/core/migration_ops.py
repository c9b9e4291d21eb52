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


def add_column_in_place(model_name: str, field_name: str, field: Any) -> migrations.SeparateDatabaseAndState:
    """Add a NOT NULL column with a constant database default (`db_default`) without copying the table.

    Django's AddField rebuilds the whole table on SQLite for such a column (every outbox row copied);
    SQLite's own ALTER TABLE ADD COLUMN takes it as it is, as PostgreSQL 11 and later do."""
    app_label, model = model_name.split(".")

    def _field(target: Any) -> Any:
        column = field.clone()
        column.set_attributes_from_name(field_name)
        column.model = target  # read by the schema editor for a database default
        return column

    def forwards(apps: Any, schema_editor: Any) -> None:
        target = apps.get_model(app_label, model)
        if schema_editor.connection.vendor != "sqlite":
            schema_editor.add_field(target, _field(target))
            return
        column = _field(target)
        definition, params = schema_editor.column_sql(target, column, include_default=True)
        check = column.db_check(schema_editor.connection)
        if check:
            definition += f" CHECK ({check})"
        q = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {q(target._meta.db_table)} ADD COLUMN {q(field_name)} {definition}",
                              params)

    def backwards(apps: Any, schema_editor: Any) -> None:
        target = apps.get_model(app_label, model)
        schema_editor.remove_field(target, _field(target))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(forwards, backwards)],
        state_operations=[migrations.AddField(model_name=model, name=field_name, field=field)],
    )
