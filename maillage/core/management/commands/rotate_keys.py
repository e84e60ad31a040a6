import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from maillage.core import crypto
from maillage.core.fields import EncryptedTextField


def encrypted_fields() -> list[tuple[type, list[EncryptedTextField]]]:
    """Every concrete model with ``EncryptedTextField`` columns of its own table."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda item: item[0]._meta.label)


def rotate_model(model, fields: list[EncryptedTextField], *, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt under the current key every value of ``fields`` that is not under it yet.

    Rows are read raw (the stored ``enc:<kid>:…`` text, not the decrypted value), in primary-key
    batches, each batch locked and rewritten in its own transaction. Plain text left by an old
    import is encrypted too. A value that cannot be decrypted stops the rotation loudly.
    """
    current = crypto.current_key_id()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk_column = quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT {pk_column}, {columns} FROM {table}"  # noqa: S608 -- quoted model names  # nosec B608
    first_batch = f"{select} ORDER BY {pk_column} LIMIT %s{lock}"
    next_batch = f"{select} WHERE {pk_column} > %s ORDER BY {pk_column} LIMIT %s{lock}"
    counts = {"rows": 0, "rotated": 0, "values": 0, "plaintext": 0}
    last_pk = None
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if last_pk is None:
                    cursor.execute(first_batch, [batch_size])
                else:
                    cursor.execute(next_batch, [last_pk, batch_size])
                rows = cursor.fetchall()
            if not rows:
                return counts
            last_pk = rows[-1][0]
            counts["rows"] += len(rows)
            changed = []
            for pk, *stored in rows:
                instance = model(pk=pk)
                touched = []
                for field, value in zip(fields, stored, strict=True):
                    if not value or crypto.key_id_of(value) == current:
                        continue
                    if crypto.key_id_of(value) is None:
                        plaintext = value
                        counts["plaintext"] += 1
                    else:
                        try:
                            plaintext = crypto.decrypt(value)
                        except crypto.DecryptionError as exc:
                            raise CommandError(
                                f"{model._meta.label} #{pk}, field {field.name}: {exc} Rotation stopped; "
                                "rows before this one are already under the new key."
                            ) from exc
                    setattr(instance, field.attname, plaintext)
                    touched.append(field.name)
                    counts["values"] += 1
                if touched:
                    changed.append((instance, touched))
            for names in {tuple(t) for _i, t in changed}:
                # The field's own encryption (get_prep_value) writes the values under the current key.
                model._base_manager.bulk_update([i for i, t in changed if tuple(t) == names], list(names))
            counts["rotated"] += len(changed)


class Command(BaseCommand):
    help = (
        "Re-encrypts every encrypted free-text value under the current key (the first of "
        "MAILLAGE_ENCRYPTION_KEYS). Keep the old key listed until this has run; idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size=500, **options):
        current = crypto.current_key_id()
        self.stdout.write(f"Current key: {current}")
        total = 0
        started = time.perf_counter()
        for model, fields in encrypted_fields():
            counts = rotate_model(model, fields, batch_size=batch_size)
            total += counts["values"]
            extra = f", {counts['plaintext']} plain values encrypted" if counts["plaintext"] else ""
            self.stdout.write(
                f"{model._meta.label}: {counts['rotated']} of {counts['rows']} rows re-encrypted "
                f"({counts['values']} values{extra})"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done in {time.perf_counter() - started:.2f} s: {total} values re-encrypted.")
        )
