"""pg_trgm and GIN trigram indexes on the children's normalised names, on PostgreSQL only.

The indexes serve the name search (``maillage.people.search``: pg_trgm's ``%>`` operator on
``first_name_normalised`` and ``last_name_normalised``). They are not in ``Child.Meta.indexes``
on purpose: a ``GinIndex`` with the ``gin_trgm_ops`` operator class exists only on PostgreSQL,
and an index declared in the model is created on SQLite too (where it fails) and is part of the
state ``makemigrations --check`` compares on both databases. So the migration creates them with
SQL, when the database is PostgreSQL, and the model state does not know them; on SQLite every
operation here does nothing (the search runs pg_trgm's functions in Python there, without index).

Non-atomic so that the indexes are built ``CONCURRENTLY``: on a deployed database with many
children, building them does not block the writes to the table.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "child_first_name_trgm": "first_name_normalised",
    "child_last_name_trgm": "last_name_normalised",
}


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """``CREATE EXTENSION pg_trgm`` on PostgreSQL, nothing elsewhere, both ways.

    Django's ``CreateExtension`` checks the database's vendor going forwards but not backwards: its
    ``DROP EXTENSION`` would query ``pg_extension`` on SQLite when the migration is reversed.
    """

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        # An interrupted concurrent build leaves an invalid index behind, which IF NOT EXISTS
        # would keep: drop it first.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT indisvalid FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid"
                " WHERE relname = %s",
                [name],
            )
            invalid = cursor.fetchone()
        if invalid and invalid[0]:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON people_child USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("people", "0002_child_in_priority_area"),
    ]

    operations = [
        # pg_trgm is a trusted extension: the database's owner may create it.
        TrigramExtensionOnPostgreSQL(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
