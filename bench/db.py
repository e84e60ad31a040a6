"""Bulk writing for the harness: explicit ids, COPY on PostgreSQL, executemany on SQLite.

Rows are dicts keyed by field ``attname``; missing fields take the field's default (computed once per
call). Encrypted text fields must be given already encrypted (``maillage.core.crypto.encrypt``): the
builder encrypts a small pool of texts once and reuses it, which decrypts like any other value.
"""

import datetime
import decimal
import json

from django.db import connection, models

from maillage.core.fields import EncryptedTextField


class Writer:
    def __init__(self):
        self.next_ids: dict[type, int] = {}
        self.counts: dict[str, int] = {}

    def ids(self, model, n: int) -> range:
        """Reserve ``n`` primary keys of ``model``."""
        if model not in self.next_ids:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
                self.next_ids[model] = cursor.fetchone()[0] + 1
        start = self.next_ids[model]
        self.next_ids[model] = start + n
        return range(start, start + n)

    def insert(self, model, rows: list[dict], batch: int = 50_000) -> None:
        if not rows:
            return
        fields = [f for f in model._meta.concrete_fields]
        now = datetime.datetime.now(tz=datetime.UTC)
        defaults = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = now
            elif f.has_default():
                defaults[f.attname] = f.get_default()
            elif f.null:
                defaults[f.attname] = None
            else:
                defaults[f.attname] = f.get_default()
        sqlite = connection.vendor == "sqlite"
        converters = [_converter(f, sqlite) for f in fields]
        names = [f.attname for f in fields]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            values = [
                tuple(
                    conv(row[name]) if name in row else conv(defaults[name])
                    for name, conv in zip(names, converters, strict=True)
                )
                for row in chunk
            ]
            connection.ensure_connection()
            raw = connection.connection
            if sqlite:
                marks = ", ".join("?" * len(fields))
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
            else:
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + len(rows)


def _identity(value):
    return value


def _converter(field, sqlite: bool):
    if isinstance(field, EncryptedTextField):
        return _identity
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v)
    if not sqlite:
        return _identity
    if isinstance(field, models.DateTimeField):
        return lambda v: None if v is None else connection.ops.adapt_datetimefield_value(v)
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(decimal.Decimal(v))
    return _identity


def reset_sequences(models_list) -> None:
    """After explicit ids on PostgreSQL, move each table's id sequence past the largest id."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models_list):
            cursor.execute(sql)
