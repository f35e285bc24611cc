"""Trigram indexes for `icontains` searches (admin `search_fields`, the API's `?search=`) over big
tables, on PostgreSQL only (`pg_trgm`); other databases skip them.

Django turns `col__icontains=q` into `UPPER(col::text) LIKE UPPER('%q%')`, so the index is on that
same expression: a search then reads the matching rows instead of every row of the table."""

from django.db import migrations


def _name(table, column):
    return f"{table}_{column}_trgm"[:63]


def trigram_indexes(table: str, columns: list[str]):
    """A migration operation adding a GIN trigram index per column (PostgreSQL only)."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{_name(table, column)}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{_name(table, column)}"')

    return migrations.RunPython(forwards, backwards, elidable=False)
