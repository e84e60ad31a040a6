"""``backup`` then ``restore`` into a fresh database of the same engine (SQLite in the default run,
PostgreSQL when DATABASE_URL points at it): every table's rows, every file, the journal and the encrypted
text come back as they were; a non-empty database, an altered backup or missing keys are refused."""

import hashlib
import io
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

from maillage.audit.models import AuditEvent
from maillage.core.management.commands.rotate_keys import encrypted_fields
from maillage.operations.backups import MANIFEST, read_manifest

pytestmark = pytest.mark.django_db(transaction=True)

TARGET = "restored"


class RestoredDatabaseRouter:
    """Sends every ORM query to the restored database, so that ``verify_audit`` and the models read it."""

    def db_for_read(self, model, **hints):
        return TARGET

    def db_for_write(self, model, **hints):
        return TARGET

    def allow_relation(self, *objects, **hints):
        return True


@contextmanager
def fresh_database(tmp_path: Path):
    """A new, empty database of the default's engine, reachable as the ``restored`` alias."""
    conf = dict(connections["default"].settings_dict)
    created = None
    if connections["default"].vendor == "sqlite":
        conf["NAME"] = str(tmp_path / f"restored-{uuid.uuid4().hex[:8]}.sqlite3")
    else:
        import psycopg

        created = f"maillage_data_h_restore_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_conninfo(conf, "postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{created}"')
        conf["NAME"] = created
    connections.settings[TARGET] = conf
    # Connected here, so that the test case's guard (only the aliases declared when the test case was
    # set up may open a connection) lets this alias, added afterwards, through.
    connections[TARGET].connect()
    try:
        yield connections[TARGET]
    finally:
        connections[TARGET].close()
        del connections[TARGET]
        del connections.settings[TARGET]
        if created:
            import psycopg

            with psycopg.connect(_conninfo(conf, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def _conninfo(conf: dict, dbname: str) -> str:
    parts = {"dbname": dbname, "host": conf.get("HOST"), "port": conf.get("PORT"), "user": conf.get("USER")}
    if conf.get("PASSWORD"):
        parts["password"] = conf["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def all_rows(alias: str) -> dict[str, list[str]]:
    """Every row of every table, as sorted text: two databases with equal results hold the same data."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            rows[table] = sorted(repr(row) for row in cursor.fetchall())
    return rows


def media_checksums(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def decrypted_text(using: str | None = None) -> dict[str, list[tuple]]:
    texts = {}
    for model, fields in encrypted_fields():
        manager = model._base_manager.using(using) if using else model._base_manager
        texts[model._meta.label] = sorted(manager.values_list("pk", *[f.name for f in fields]))
    return texts


@pytest.fixture
def populated(settings, tmp_path):
    """The demo programme (journal, encrypted notes and bilans…) and a few uploaded files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", force=True, stdout=io.StringIO())
    default_storage.save("consents/2026/accord-signe.pdf", ContentFile(b"%PDF-1.7 accord\n" * 50))
    default_storage.save("invoices/facture.png", ContentFile(bytes(range(256)) * 8))
    default_storage.save("lisez-moi.txt", ContentFile("fichier à la racine\n".encode()))
    return settings.MEDIA_ROOT


def test_backup_then_restore_into_a_fresh_database_gives_back_everything(populated, settings, tmp_path):
    out = tmp_path / "sauvegarde"
    output = io.StringIO()
    call_command("backup", out, stdout=output)
    before = all_rows("default")
    texts = decrypted_text()
    files = media_checksums(populated)
    assert AuditEvent.objects.exists() and any(values for values in texts.values())
    assert len(files) == 3
    manifest = read_manifest(out)
    assert manifest["keys"]["included"] is False
    assert "Les clés ne sont pas dans la sauvegarde" in output.getvalue()
    written = (out / MANIFEST).read_text(encoding="utf-8")
    assert settings.MAILLAGE_AUDIT_KEY not in written
    assert all(key.split(":", 1)[1] not in written for key in settings.MAILLAGE_ENCRYPTION_KEYS.split(","))
    print(output.getvalue())

    settings.MEDIA_ROOT = tmp_path / "media-restaure"
    with fresh_database(tmp_path):
        output = io.StringIO()
        call_command("restore", out, database=TARGET, stdout=output)
        print(output.getvalue())

        assert all_rows(TARGET) == before
        assert media_checksums(settings.MEDIA_ROOT) == files
        with override_settings(DATABASE_ROUTERS=["tests.operations.test_backup.RestoredDatabaseRouter"]):
            journal = io.StringIO()
            call_command("verify_audit", stdout=journal)
            print(journal.getvalue())
            assert "Journal intact" in journal.getvalue()
            assert decrypted_text() == texts
        # Read from the restored tables themselves: still ciphertext at rest, plain text through the keys.
        model, fields = next(
            (m, f) for m, f in encrypted_fields() if m._base_manager.exclude(**{f[0].name: ""})
        )
        with connections[TARGET].cursor() as cursor:
            cursor.execute(
                f"SELECT {fields[0].column} FROM {model._meta.db_table} WHERE {fields[0].column} <> ''"
            )
            assert cursor.fetchone()[0].startswith("enc:")

        # Once restored, the database is no longer empty: a second restore is refused.
        with pytest.raises(CommandError, match="n'est pas vide"):
            call_command("restore", out, database=TARGET)


def test_a_non_empty_database_is_refused_with_a_clear_message(populated, tmp_path):
    out = tmp_path / "sauvegarde"
    call_command("backup", out, stdout=io.StringIO())
    before = AuditEvent.objects.count()

    with pytest.raises(CommandError) as error:
        call_command("restore", out)

    assert "La base cible n'est pas vide" in str(error.value) and "createdb" in str(error.value)
    assert AuditEvent.objects.count() == before


def test_an_altered_backup_is_refused_before_anything_is_written(populated, settings, tmp_path):
    out = tmp_path / "sauvegarde"
    call_command("backup", out, stdout=io.StringIO())
    altered = tmp_path / "alteree"
    shutil.copytree(out, altered)
    (altered / "media" / "invoices" / "facture.png").write_bytes(b"not the invoice")
    settings.MEDIA_ROOT = tmp_path / "media-restaure"

    with pytest.raises(CommandError, match="facture.png : somme de contrôle SHA-256"):
        call_command("restore", altered, verify_only=True)
    with fresh_database(tmp_path) as target:
        with pytest.raises(CommandError) as error:
            call_command("restore", altered, database=TARGET)
        assert "invoices/facture.png" in str(error.value) and "SHA-256" in str(error.value)
        with target.cursor() as cursor:
            assert target.introspection.table_names(cursor) == []
    assert not (tmp_path / "media-restaure").exists()
    call_command("restore", out, verify_only=True, stdout=io.StringIO())


def test_a_restore_without_the_encryption_key_of_the_data_is_refused(populated, settings, tmp_path):
    out = tmp_path / "sauvegarde"
    call_command("backup", out, stdout=io.StringIO())
    settings.MAILLAGE_ENCRYPTION_KEYS = "autre:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    settings.MEDIA_ROOT = tmp_path / "media-restaure"

    with fresh_database(tmp_path), pytest.raises(CommandError) as error:
        call_command("restore", out, database=TARGET)

    assert "MAILLAGE_ENCRYPTION_KEYS" in str(error.value)


def test_backup_refuses_a_directory_that_already_holds_files(tmp_path):
    (tmp_path / "occupe").mkdir()
    (tmp_path / "occupe" / "autre.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="n'est pas un dossier vide"):
        call_command("backup", tmp_path / "occupe")
