"""Backups of an instance: its database, its uploaded files and a manifest — never its keys.

A backup is a directory::

    OUT/
      manifest.json        format, date, engine, SHA-256 and size of every file, applied migrations,
                           row count of every table, the ids of the encryption keys the data needs
      database.sqlite3     SQLite: a consistent copy taken with SQLite's online backup API
      database.pgdump      PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore``)
      media/…              every file of the default storage (uploaded consent proofs, invoices…)

``MAILLAGE_ENCRYPTION_KEYS``, ``MAILLAGE_AUDIT_KEY`` and ``SECRET_KEY`` are never written: a stolen backup
does not open the encrypted free text, and whoever holds the keys need not hold the backups. The manifest
names the encryption key *ids* the data was written under, and a fingerprint of the journal key (a hash
from which the key cannot be recovered), so that a restore can tell the operator which keys it needs
before writing anything.

The database is copied before the files: a file is stored before the row that points to it is committed,
so every file the copied database refers to is in the backup.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from maillage.core import crypto

FORMAT = "maillage-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
MEDIA_DIR = "media"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why, in one line, in French."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def audit_key_fingerprint() -> str:
    """A short SHA-256 of the journal key under a fixed label: tells a restore whether the key at hand is
    the one the journal was sealed with, and gives nothing of the key (at least 32 random characters)."""
    key = settings.MAILLAGE_AUDIT_KEY.encode()
    return hashlib.sha256(b"maillage-backup-audit-key-fingerprint\x00" + key).hexdigest()[:16]


def engine_of(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Base de données %(vendor)s non prise en charge.") % {"vendor": vendor})
    return vendor


def _postgres_env(alias: str) -> dict[str, str]:
    """libpq's environment for the connection: the password never appears on a command line."""
    conf = connections[alias].settings_dict
    env = {**os.environ, "PGDATABASE": conf["NAME"]}
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        if conf.get(key):
            env[variable] = str(conf[key])
    if sslmode := (conf.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    return env


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _(
                "%(program)s est introuvable : installez le client PostgreSQL de la même version majeure "
                "que le serveur (paquet postgresql-client)."
            )
            % {"program": name}
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    # pg_dump or pg_restore, found with shutil.which, with a list of arguments: never a shell.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if result.returncode:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            _("%(program)s a échoué (code %(code)d) : %(detail)s")
            % {"program": Path(command[0]).name, "code": result.returncode, "detail": " / ".join(detail[-3:])}
        )


def table_counts(alias: str) -> dict[str, int]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 -- introspected, quoted  # nosec B608
            counts[table] = cursor.fetchone()[0]
    return counts


def applied_migrations(alias: str) -> list[list[str]]:
    return sorted([app, name] for app, name in MigrationRecorder(connections[alias]).applied_migrations())


def media_names(storage=default_storage, directory: str = "") -> Iterator[str]:
    """Every file name of ``storage`` under ``directory``, through the storage API (local or S3)."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for sub in sorted(directories):
        yield from media_names(storage, f"{directory}/{sub}" if directory else sub)


def _copy_with_digest(source, target: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def backup(out: str | Path, *, using: str = "default") -> dict:
    """Write a backup of the database ``using`` and of the default storage into the directory ``out``
    (created; refused if it exists and is not empty). Returns the manifest."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(
            _("« %(path)s » existe déjà et n'est pas un dossier vide : choisissez un nouveau dossier.")
            % {"path": out}
        )
    engine = engine_of(using)
    out.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    if engine == "sqlite":
        database = out / SQLITE_FILE
        connection.ensure_connection()
        target = sqlite3.connect(database)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        database = out / POSTGRES_FILE
        _run(
            [
                _program("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(database),
            ],
            _postgres_env(using),
        )
    media = []
    for name in media_names():
        with default_storage.open(name, "rb") as source:
            digest, size = _copy_with_digest(source, out / MEDIA_DIR / name)
        media.append({"name": name, "sha256": digest, "bytes": size})
    current_kid, keys = crypto.keyring()
    manifest = {
        "format": FORMAT,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "database": {"file": database.name, "sha256": sha256_of(database), "bytes": database.stat().st_size},
        "media": media,
        "migrations": applied_migrations(using),
        "tables": table_counts(using),
        "keys": {
            "included": False,
            "encryption_key_ids": sorted(keys),
            "current_encryption_key_id": current_kid,
            "audit_key_fingerprint": audit_key_fingerprint(),
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: str | Path) -> dict:
    source = Path(source)
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(_("« %(path)s » n'est pas un dossier de sauvegarde.") % {"path": source})
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            _("Pas de %(file)s dans « %(path)s » : ce n'est pas une sauvegarde Maillage.")
            % {
                "file": MANIFEST,
                "path": source,
            }
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(_("%(file)s illisible (%(error)s).") % {"file": MANIFEST, "error": exc}) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            _("Format de sauvegarde inconnu (%(format)s, %(expected)s attendu).")
            % {"format": manifest.get("format") if isinstance(manifest, dict) else "?", "expected": FORMAT}
        )
    return manifest


def verify(source: str | Path, manifest: dict) -> list[str]:
    """Every difference between the files of the backup and the checksums of its manifest."""
    source = Path(source)
    problems = []
    expected = [(manifest["database"]["file"], manifest["database"]["sha256"])]
    expected += [(f"{MEDIA_DIR}/{item['name']}", item["sha256"]) for item in manifest["media"]]
    for name, digest in expected:
        path = source / name
        if not path.is_file():
            problems.append(_("%(name)s : fichier absent de la sauvegarde.") % {"name": name})
        elif sha256_of(path) != digest:
            problems.append(
                _("%(name)s : somme de contrôle SHA-256 différente de celle du manifeste (fichier altéré).")
                % {"name": name}
            )
    return problems


def _check_target(manifest: dict, using: str, check_keys: bool) -> None:
    engine = engine_of(using)
    if manifest["engine"] != engine:
        raise BackupError(
            _("Cette sauvegarde est une base %(backup)s ; la base cible est %(target)s.")
            % {"backup": manifest["engine"], "target": engine}
        )
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if tables:
        raise BackupError(
            _(
                "La base cible n'est pas vide (%(count)d table(s), dont %(sample)s) : une restauration se "
                "fait dans une base neuve, créée vide (createdb, ou un nouveau fichier SQLite), sans migrate."
            )
            % {"count": len(tables), "sample": ", ".join(sorted(tables)[:3])}
        )
    if check_keys:
        _current, keys = crypto.keyring()
        missing = sorted(set(manifest["keys"]["encryption_key_ids"]) - set(keys))
        if missing:
            raise BackupError(
                _(
                    "Clé(s) de chiffrement %(kids)s absente(s) de MAILLAGE_ENCRYPTION_KEYS : les textes "
                    "chiffrés seraient illisibles. Reprenez les clés du coffre de secrets "
                    "(docs/operations.md)."
                )
                % {"kids": ", ".join(missing)}
            )
        if manifest["keys"]["audit_key_fingerprint"] != audit_key_fingerprint():
            raise BackupError(
                _(
                    "MAILLAGE_AUDIT_KEY n'est pas la clé qui a scellé ce journal : verify_audit ne pourrait "
                    "pas le vérifier. Reprenez la clé du coffre de secrets (docs/operations.md)."
                )
            )
    for item in manifest["media"]:
        if default_storage.exists(item["name"]):
            raise BackupError(
                _("Le stockage des fichiers contient déjà « %(name)s » : restaurez dans un stockage vide.")
                % {"name": item["name"]}
            )


def restore(source: str | Path, *, using: str = "default", check_keys: bool = True) -> dict:
    """Restore a backup into the empty database ``using`` and the default storage.

    Everything is checked before anything is written: the manifest, every checksum, the engine, that the
    database is empty, the keys, that no file would be overwritten. After the copy, the restored tables
    must hold the row counts and the migrations of the manifest. Returns the manifest.
    """
    source = Path(source)
    manifest = read_manifest(source)
    if problems := verify(source, manifest):
        raise BackupError(" ".join([_("Sauvegarde refusée, rien n'a été restauré :"), *problems]))
    _check_target(manifest, using, check_keys)
    connection = connections[using]
    database = source / manifest["database"]["file"]
    if manifest["engine"] == "sqlite":
        connection.ensure_connection()
        origin = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
    else:
        _run(
            [
                _program("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                connection.settings_dict["NAME"],
                str(database),
            ],
            _postgres_env(using),
        )
    for item in manifest["media"]:
        with open(source / MEDIA_DIR / item["name"], "rb") as handle:
            saved = default_storage.save(item["name"], File(handle, name=item["name"]))
        if saved != item["name"]:
            raise BackupError(
                _("Le fichier « %(name)s » a été enregistré sous un autre nom.") % {"name": item["name"]}
            )
    counts = table_counts(using)
    if counts != manifest["tables"]:
        different = sorted(
            t for t in set(counts) | set(manifest["tables"]) if counts.get(t) != manifest["tables"].get(t)
        )
        raise BackupError(
            _("La base restaurée ne compte pas les lignes du manifeste (tables : %(tables)s).")
            % {"tables": ", ".join(different[:5])}
        )
    if applied_migrations(using) != manifest["migrations"]:
        raise BackupError(_("Les migrations de la base restaurée ne sont pas celles du manifeste."))
    return manifest


def migration_gap(using: str = "default") -> tuple[list[str], list[str]]:
    """``(to_apply, unknown)``: migrations of the code not applied to the database, and migrations
    applied to the database that the code does not have (a backup of a newer version)."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    on_disk = set(loader.disk_migrations)
    applied = set(loader.applied_migrations)
    return (
        [f"{app}.{name}" for app, name in sorted(on_disk - applied)],
        [f"{app}.{name}" for app, name in sorted(applied - on_disk)],
    )
