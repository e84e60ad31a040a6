"""Encryption at rest of free text: key ids, loud failures, rotation, keys apart from SECRET_KEY."""

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from maillage.core import crypto
from maillage.core.management.commands.rotate_keys import encrypted_fields
from maillage.pathways import services
from maillage.pathways.enums import ContactKind, Dimension
from maillage.pathways.models import Contact, DiagnosticSection, Note, Review
from maillage.referrals.models import Referral
from tests.factories import MembershipFactory, open_pathway, programme_with_lists

ROOT = Path(__file__).resolve().parents[2]
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 -- test constants
        return cursor.fetchone()[0]


def _set_raw(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


# --- the primitives ---------------------------------------------------------------------------------


@given(st.text())
def test_any_text_survives_a_round_trip(text):
    assert crypto.decrypt(crypto.encrypt(text)) == text


def test_a_stored_value_carries_the_id_of_the_key_that_encrypted_it(settings):
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k2026:{KEY_A},k2025:{KEY_B}"
    stored = crypto.encrypt("Difficultés de lecture")
    assert stored.startswith("enc:k2026:")
    assert crypto.key_id_of(stored) == crypto.current_key_id() == "k2026"
    assert "lecture" not in stored


def test_the_same_text_never_encrypts_twice_the_same_way():
    assert crypto.encrypt("Même texte") != crypto.encrypt("Même texte")


def test_a_wrong_key_raises_and_never_returns_the_ciphertext(settings):
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k1:{KEY_A}"
    stored = crypto.encrypt("Secret partagé")
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k1:{KEY_B}"  # same id, other material
    with pytest.raises(crypto.DecryptionError, match="wrong key or altered value"):
        crypto.decrypt(stored)


def test_an_altered_value_raises():
    stored = crypto.encrypt("Secret partagé")
    prefix, _, payload = stored.rpartition(":")
    raw = bytearray(base64.b64decode(payload))
    raw[15] ^= 0x01  # one bit of the ciphertext
    with pytest.raises(crypto.DecryptionError, match="wrong key or altered value"):
        crypto.decrypt(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}")


def test_a_missing_key_id_raises_with_a_clear_message(settings):
    settings.MAILLAGE_ENCRYPTION_KEYS = f"old:{KEY_A}"
    stored = crypto.encrypt("Note ancienne")
    settings.MAILLAGE_ENCRYPTION_KEYS = f"new:{KEY_B}"
    with pytest.raises(crypto.DecryptionError, match="No key with id 'old' in MAILLAGE_ENCRYPTION_KEYS"):
        crypto.decrypt(stored)


def test_plain_text_is_not_accepted_as_encrypted():
    with pytest.raises(crypto.DecryptionError, match="not encrypted"):
        crypto.decrypt("du texte en clair")


def test_the_key_is_not_secret_key_nor_derived_from_it(settings):
    _current, keys = crypto.keyring()
    secret = settings.SECRET_KEY.encode()
    for material in keys.values():
        assert material not in secret
        assert material != hashlib.sha256(secret).digest()
        assert base64.b64encode(material) not in secret


# --- through the models -------------------------------------------------------------------------------


@pytest.fixture
def written(db):
    programme = programme_with_lists()
    by = MembershipFactory(programme=programme).user
    pathway = open_pathway(programme=programme, by=by)
    notes = [services.note_add(pathway=pathway, body=f"Note confidentielle {i}", by=by) for i in range(5)]
    contact = services.contact_add(
        pathway=pathway,
        by=by,
        kind=ContactKind.PHONE,
        occurred_on=pathway.opened_on,
        summary="Appel à la mère",
    )
    section = services.diagnostic_section_save(
        pathway=pathway, dimension=Dimension.SCHOOL, by=by, difficulties="Lecture", assessment="Soutien"
    )
    return {"notes": notes, "contact": contact, "section": section}


@pytest.mark.django_db
def test_free_text_is_stored_encrypted_and_read_back_in_clear(written):
    note = written["notes"][0]
    raw = _raw("pathways_note", "body", note.pk)
    assert raw.startswith(f"enc:{crypto.current_key_id()}:") and "confidentielle" not in raw
    assert Note.objects.get(pk=note.pk).body == "Note confidentielle 0"


@pytest.mark.django_db
def test_reading_with_the_wrong_key_fails_loudly_through_the_orm(written, settings):
    note = written["notes"][0]
    kid = crypto.current_key_id()
    settings.MAILLAGE_ENCRYPTION_KEYS = f"{kid}:{KEY_B}"
    with pytest.raises(crypto.DecryptionError):
        Note.objects.get(pk=note.pk)


def test_every_model_with_encrypted_fields_is_discovered():
    found = {model: {f.name for f in fields} for model, fields in encrypted_fields()}
    assert found[Note] == {"body"}
    assert found[Contact] == {"summary"}
    assert found[Review] == {"summary"}
    assert found[Referral] == {"context"}
    assert found[DiagnosticSection] == {"difficulties", "resources", "facts", "assessment"}


@pytest.mark.django_db
def test_rotation_moves_every_value_to_the_new_key_and_they_still_read(written, settings):
    old_kid = crypto.current_key_id()
    old_spec = settings.MAILLAGE_ENCRYPTION_KEYS
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k-new:{KEY_B},{old_spec}"
    out = StringIO()
    call_command("rotate_keys", "--batch-size", "2", stdout=out)

    for note in written["notes"]:
        assert crypto.key_id_of(_raw("pathways_note", "body", note.pk)) == "k-new"
    assert crypto.key_id_of(_raw("pathways_contact", "summary", written["contact"].pk)) == "k-new"
    section = written["section"]
    assert crypto.key_id_of(_raw("pathways_diagnosticsection", "difficulties", section.pk)) == "k-new"
    assert _raw("pathways_diagnosticsection", "facts", section.pk) == ""  # empty stays empty
    assert "pathways.Note: 5 of 5 rows re-encrypted" in out.getvalue()
    assert "pathways.DiagnosticSection: 1 of 1 rows re-encrypted (2 values)" in out.getvalue()

    # The old key can go: everything reads with the new one alone.
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k-new:{KEY_B}"
    assert sorted(Note.objects.values_list("body", flat=True)) == [
        f"Note confidentielle {i}" for i in range(5)
    ]
    assert Contact.objects.get().summary == "Appel à la mère"
    assert old_kid != "k-new"


@pytest.mark.django_db
def test_a_second_rotation_changes_nothing(written, settings):
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k-new:{KEY_B},{settings.MAILLAGE_ENCRYPTION_KEYS}"
    call_command("rotate_keys", stdout=StringIO())
    before = [_raw("pathways_note", "body", n.pk) for n in written["notes"]]
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert [_raw("pathways_note", "body", n.pk) for n in written["notes"]] == before
    assert "0 values re-encrypted" in out.getvalue()


@pytest.mark.django_db
def test_rotation_encrypts_plain_text_left_by_an_old_import(written):
    note = written["notes"][0]
    _set_raw("pathways_note", "body", note.pk, "Texte importé en clair")
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert crypto.key_id_of(_raw("pathways_note", "body", note.pk)) == crypto.current_key_id()
    assert Note.objects.get(pk=note.pk).body == "Texte importé en clair"
    assert "1 plain values encrypted" in out.getvalue()


@pytest.mark.django_db
def test_rotation_stops_loudly_on_a_value_it_cannot_decrypt(written, settings):
    note = written["notes"][2]
    original = settings.MAILLAGE_ENCRYPTION_KEYS
    settings.MAILLAGE_ENCRYPTION_KEYS = f"lost:{KEY_A}"
    orphan = crypto.encrypt("Sous une clé perdue")
    settings.MAILLAGE_ENCRYPTION_KEYS = f"k-new:{KEY_B},{original}"  # "lost" is not listed any more
    _set_raw("pathways_note", "body", note.pk, orphan)
    with pytest.raises(CommandError, match=rf"pathways.Note #{note.pk}, field body: No key with id 'lost'"):
        call_command("rotate_keys", stdout=StringIO())


# --- production settings --------------------------------------------------------------------------------


def _import_settings(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"MAILLAGE_ENCRYPTION_KEYS", "SECRET_KEY"}}
    # A valid journal key, so that only the encryption keys under test can stop the start.
    environment.update(MAILLAGE_ENV="production", MAILLAGE_AUDIT_KEY=secrets.token_urlsafe(48), **env)
    return subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_encryption_keys():
    result = _import_settings(SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "MAILLAGE_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_refuses_keys_taken_from_secret_key():
    key = base64.b64encode(os.urandom(32)).decode()
    result = _import_settings(
        SECRET_KEY=f"{secrets.token_urlsafe(40)}{key}", MAILLAGE_ENCRYPTION_KEYS=f"k1:{key}"
    )
    assert result.returncode != 0 and "must not be derived from SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key_and_separate_encryption_keys():
    key = base64.b64encode(os.urandom(32)).decode()
    result = _import_settings(SECRET_KEY=secrets.token_urlsafe(60), MAILLAGE_ENCRYPTION_KEYS=f"k1:{key}")
    assert result.returncode == 0, result.stderr
