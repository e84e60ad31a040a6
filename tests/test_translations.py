"""The English catalogue is complete, keeps every placeholder, and is actually served to English readers.

The .po file is parsed here with plain Python (no polib); the rendering tests compile it into a temporary
.mo file, so they check the catalogue as it is in the repository rather than a possibly stale .mo.
"""

import ast
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

PO_PATH = Path(__file__).resolve().parent.parent / "maillage" / "locale" / "en" / "LC_MESSAGES" / "django.po"
LOGIN_URL = "/compte/login/"

# %(name)s / %(name)d, bare %s / %d, and {name} (str.format); "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")
HTML_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr\[\d+\]|msgstr)\s+(".*")$')


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields["msgid"]

    @property
    def is_header(self) -> bool:
        return self.msgid == ""

    @property
    def is_plural(self) -> bool:
        return "msgid_plural" in self.fields

    def translations(self) -> list[str]:
        if self.is_plural:
            keys = sorted((k for k in self.fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
            return [self.fields[k] for k in keys]
        return [self.fields.get("msgstr", "")]

    def sources_and_translations(self) -> list[tuple[str, str]]:
        """Pair each translation with its source: msgstr[0] ↔ msgid, msgstr[n>0] ↔ msgid_plural."""
        if not self.is_plural:
            return [(self.msgid, self.fields.get("msgstr", ""))]
        return [
            (self.msgid if n == 0 else self.fields["msgid_plural"], text)
            for n, text in enumerate(self.translations())
        ]

    def label(self) -> str:
        return f"line {self.line}: {self.msgid[:70]!r}"


def _unquote(literal: str) -> str:
    # A PO string is a C-style double-quoted string; Python's literal syntax reads it the same way
    # for the escapes gettext produces (\n, \t, \", \\).
    return ast.literal_eval(literal)


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    last_field: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, last_field = None, None
            continue
        if line.startswith("#~"):
            raise AssertionError(f"line {number}: obsolete entry left in the catalogue")
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue
        elif match := FIELD.match(line):
            last_field = match.group(1)
            current.fields[last_field] = _unquote(match.group(2))
        elif line.startswith('"') and last_field is not None:
            current.fields[last_field] += _unquote(line)
        else:
            raise AssertionError(f"line {number}: cannot parse {raw!r}")
    return entries


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def html_tags(text: str) -> list[str]:
    return [match.group(0).split()[0].rstrip(">") for match in HTML_TAG.finditer(text)]


def header_fields(entries: list[Entry]) -> dict[str, str]:
    header = next(entry for entry in entries if entry.is_header)
    pairs = (line.split(":", 1) for line in header.fields["msgstr"].splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def write_mo(entries: list[Entry], path: Path) -> None:
    """Write a GNU .mo file (the format Python's gettext reads) from the parsed entries."""
    messages: dict[str, str] = {}
    for entry in entries:
        if "fuzzy" in entry.flags and not entry.is_header:
            continue
        key = entry.msgid
        if entry.is_plural:
            key += "\0" + entry.fields["msgid_plural"]
        if "msgctxt" in entry.fields:
            key = entry.fields["msgctxt"] + "\x04" + key
        messages[key] = "\0".join(entry.translations())
    keys = sorted(messages)
    ids = [k.encode("utf-8") for k in keys]
    strs = [messages[k].encode("utf-8") for k in keys]
    count = len(keys)
    ids_table_offset = 7 * 4
    strs_table_offset = ids_table_offset + count * 8
    data_offset = strs_table_offset + count * 8
    tables, blob = [], b""
    for chunk in ids + strs:
        tables.append((len(chunk), data_offset + len(blob)))
        blob += chunk + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, ids_table_offset, strs_table_offset, 0, 0)
    body = b"".join(struct.pack("<2I", length, offset) for length, offset in tables)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + body + blob)


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(catalogue) -> list[Entry]:
    return [entry for entry in catalogue if not entry.is_header]


def test_the_catalogue_has_a_header_declaring_english_and_two_plural_forms(catalogue):
    fields = header_fields(catalogue)
    assert fields["Language"] == "en"
    assert fields["Plural-Forms"].startswith("nplurals=2;")
    assert "charset=UTF-8" in fields["Content-Type"]


def test_the_catalogue_is_not_empty(messages):
    assert len(messages) > 500


def test_every_message_has_a_translation(messages):
    untranslated = [entry.label() for entry in messages if not all(t.strip() for t in entry.translations())]
    assert untranslated == []


def test_every_plural_message_has_exactly_two_forms(messages):
    wrong = [entry.label() for entry in messages if entry.is_plural and len(entry.translations()) != 2]
    assert wrong == []


def test_no_message_is_left_fuzzy(catalogue):
    fuzzy = [entry.label() for entry in catalogue if "fuzzy" in entry.flags]
    assert fuzzy == []


def test_every_translation_keeps_the_placeholders_of_its_source(messages):
    mismatches = [
        f"{entry.label()} → {text!r}"
        for entry in messages
        for source, text in entry.sources_and_translations()
        if placeholders(source) != placeholders(text)
    ]
    assert mismatches == []


def test_every_translation_keeps_the_html_tags_of_its_source(messages):
    mismatches = [
        f"{entry.label()} → {text!r}"
        for entry in messages
        for source, text in entry.sources_and_translations()
        if html_tags(source) != html_tags(text)
    ]
    assert mismatches == []


def test_translations_end_with_a_newline_exactly_when_their_source_does(messages):
    mismatches = [
        entry.label()
        for entry in messages
        for source, text in entry.sources_and_translations()
        if source.endswith("\n") != text.endswith("\n")
    ]
    assert mismatches == []


def test_the_placeholder_check_catches_a_dropped_or_renamed_placeholder():
    assert placeholders("Bonjour %(name)s, %d jours") != placeholders("Hello, %d days")
    assert placeholders("Bonjour %(name)s") != placeholders("Hello %(nom)s")
    assert placeholders("{count} enfants, 100 %%") == placeholders("{count} children, 100%%")


@pytest.fixture
def compiled_catalogue(catalogue, settings, tmp_path):
    """Serve the repository's .po (compiled on the fly) instead of whatever .mo happens to be on disk."""
    write_mo(catalogue, tmp_path / "en" / "LC_MESSAGES" / "django.mo")
    settings.LOCALE_PATHS = [tmp_path]  # resets Django's translation caches (setting_changed)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.django_db
def test_the_login_page_is_in_english_for_a_browser_asking_for_english(client, compiled_catalogue):
    response = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en"' in page
    assert "Sign in with your account" in page
    assert re.search(r'<button type="submit" class="fr-btn">\s*Sign in\s*</button>', page)
    assert "Forgotten your password?" in page
    assert "Se connecter avec son compte" not in page


@pytest.mark.django_db
def test_the_login_page_stays_in_french_by_default(client, compiled_catalogue):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert re.search(r'<button type="submit" class="fr-btn">\s*Se connecter\s*</button>', page)
    assert "Sign in with your account" not in page


@pytest.mark.django_db
def test_a_browser_preferring_an_unsupported_language_gets_french(client, compiled_catalogue):
    response = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="de")

    assert re.search(
        r'<button type="submit" class="fr-btn">\s*Se connecter\s*</button>', response.content.decode()
    )
