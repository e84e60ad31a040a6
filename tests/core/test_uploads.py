"""Uploaded files: size, extension and content must agree; pictures lose their metadata."""

import io
import re
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import FileField
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from maillage.core.uploads import MAX_UPLOAD_BYTES, RandomName, validate_upload

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
SECRET = "Parc des Sources, 48.85N 2.35E"


def jpeg(*, exif_text: str = "", orientation: int | None = None, size=(40, 20)) -> bytes:
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    if exif_text:
        exif[0x010F] = exif_text  # Make
        exif[0x010E] = exif_text  # ImageDescription
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(*, text: str = "", mode: str = "RGB") -> bytes:
    image = Image.new(mode, (30, 30))
    info = PngInfo()
    if text:
        info.add_text("Comment", text)
        info.add_itxt("Description", text)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def messages(error: pytest.ExceptionInfo) -> str:
    return " ".join(error.value.messages)


def test_a_pdf_is_accepted_as_it_is():
    checked = validate_upload(upload("accord.pdf", PDF))

    assert checked.content_type == "application/pdf"
    assert checked.kind == "pdf"
    checked.file.seek(0)
    assert checked.file.read() == PDF


@pytest.mark.parametrize("name", ["photo.jpg", "photo.JPEG"])
def test_a_jpeg_is_accepted_whatever_the_case_of_its_extension(name):
    checked = validate_upload(upload(name, jpeg()))

    assert checked.content_type == "image/jpeg"
    assert Image.open(checked.file).format == "JPEG"


def test_a_png_is_accepted():
    checked = validate_upload(upload("scan.png", png()))

    assert checked.content_type == "image/png"
    assert Image.open(checked.file).format == "PNG"


def test_the_exif_of_a_jpeg_is_removed():
    original = jpeg(exif_text=SECRET)
    assert SECRET.encode() in original

    checked = validate_upload(upload("photo.jpg", original))

    data = checked.file.read()
    assert SECRET.encode() not in data
    assert b"Exif" not in data
    reopened = Image.open(io.BytesIO(data))
    assert dict(reopened.getexif()) == {}
    assert reopened.size == (40, 20)


def test_a_jpeg_taken_sideways_is_stored_upright_once_its_exif_is_gone():
    checked = validate_upload(upload("photo.jpg", jpeg(orientation=6, size=(40, 20))))

    assert Image.open(checked.file).size == (20, 40)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L"])
def test_the_text_chunks_of_a_png_are_removed(mode):
    original = png(text=SECRET, mode=mode)
    assert SECRET.encode() in original

    checked = validate_upload(upload("scan.png", original))

    data = checked.file.read()
    assert SECRET.encode() not in data
    reopened = Image.open(io.BytesIO(data))
    assert "Comment" not in reopened.info
    assert "Description" not in reopened.info
    assert reopened.mode == mode


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit():
    big = upload("accord.pdf", PDF + b"0" * (20 * 1024 * 1024 - len(PDF)))

    with pytest.raises(ValidationError) as error:
        validate_upload(big)

    assert error.value.code == "too_large"
    assert "trop volumineux" in messages(error)
    assert "(20 Mo)" in messages(error)
    assert "la taille maximale est de 5 Mo" in messages(error)


def test_the_limit_itself_is_accepted():
    exact = PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF))

    assert validate_upload(upload("accord.pdf", exact)).kind == "pdf"


def test_a_program_renamed_pdf_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_upload(upload("accord.pdf", EXE))

    assert error.value.code == "content"
    assert "ne correspond pas à son extension" in messages(error)


@pytest.mark.parametrize(
    ("name", "content"),
    [("photo.jpg", png()), ("scan.png", jpeg()), ("accord.pdf", jpeg()), ("photo.jpg", PDF)],
)
def test_extension_and_content_must_name_the_same_format(name, content):
    with pytest.raises(ValidationError) as error:
        validate_upload(upload(name, content))

    assert error.value.code == "content"


@pytest.mark.parametrize("name", ["accord.exe", "accord", "accord.gif", "accord.pdf.exe", "accord.docx"])
def test_other_extensions_are_refused_with_the_formats_accepted(name):
    with pytest.raises(ValidationError) as error:
        validate_upload(upload(name, PDF))

    assert error.value.code == "extension"
    assert "PDF, JPEG ou PNG" in messages(error)


def test_the_allowed_formats_can_be_narrowed():
    with pytest.raises(ValidationError) as error:
        validate_upload(upload("scan.png", png()), allowed={"pdf"})

    assert "déposez un fichier PDF" in messages(error)


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_upload(upload("accord.pdf", b""))

    assert error.value.code == "empty"


def test_a_broken_picture_is_refused():
    broken = png()[:40]

    with pytest.raises(ValidationError) as error:
        validate_upload(upload("scan.png", broken))

    assert error.value.code == "unreadable"
    assert "illisible" in messages(error)


def test_a_small_file_that_would_decode_into_a_huge_picture_is_refused():
    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")
    assert len(out.getvalue()) < MAX_UPLOAD_BYTES

    with pytest.raises(ValidationError) as error:
        validate_upload(upload("scan.png", out.getvalue()))

    assert error.value.code == "too_many_pixels"


# --- metadata, stored names and where files live (issue 5, point 6) -------------------------------


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps.update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    exif[0x010F] = "Téléphone de Mme Exemple"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_photo_carrying_its_gps_position_is_stored_without_it(settings):
    from django.core.files.storage import default_storage

    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the position is there

    checked = validate_upload(upload("IMG_2041 famille Exemple.jpg", original))
    name = default_storage.save(RandomName("consents/1")(None, "IMG_2041 famille Exemple.jpg"), checked.file)

    stored_path = default_storage.path(name)
    with open(stored_path, "rb") as stored:
        data = stored.read()
    reopened = Image.open(io.BytesIO(data))
    assert reopened.getexif().get_ifd(0x8825) == {}
    assert dict(reopened.getexif()) == {}
    assert b"Exif" not in data and b"Exemple" not in data
    assert "famille" not in name and "IMG_2041" not in name


def test_random_names_say_nothing_of_the_uploaded_name_and_never_repeat():
    upload_to = RandomName("/governance/")

    names = {upload_to(None, "Compte rendu Dupont.pdf") for _ in range(50)}

    assert len(names) == 50
    assert all(re.fullmatch(r"governance/[0-9a-f]{32}", name) for name in names)
    assert RandomName("governance").deconstruct() == ("maillage.core.uploads.RandomName", ("governance",), {})


def file_fields():
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and model.__module__.startswith("maillage."):
                yield pytest.param(field, id=f"{model._meta.label}.{field.name}")


@pytest.mark.parametrize("field", list(file_fields()))
def test_every_uploaded_file_is_stored_under_a_random_name(field):
    stored = field.generate_filename(MagicMock(), "accord famille Dupont.pdf")

    assert "Dupont" not in stored and "famille" not in stored


def test_uploads_live_outside_the_static_files_and_no_url_serves_them(settings, client):
    media = Path(settings.MEDIA_ROOT).resolve()
    for static in [settings.STATIC_ROOT, *getattr(settings, "STATICFILES_DIRS", [])]:
        static = Path(static).resolve()
        assert static not in media.parents and media != static
        assert media not in static.parents
    assert settings.MEDIA_URL in ("", "/")  # no public address for uploads
    from django.core.files.storage import default_storage

    name = default_storage.save(RandomName("consents/1")(None, "x.pdf"), io.BytesIO(PDF))
    for prefix in ("/media/", "/static/", "/"):
        assert client.get(prefix + name).status_code == 404


@given(
    extension=st.sampled_from([".pdf", ".jpg", ".jpeg", ".png", ".PDF", ".gif", ".exe", ".svg", ".html", ""]),
    head=st.sampled_from([b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"MZ", b"<svg", b""]),
    tail=st.binary(max_size=64),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_a_file_is_accepted_only_when_its_extension_and_its_content_name_the_same_allowed_format(
    extension, head, tail
):
    from maillage.core.uploads import KINDS

    content = head + tail
    by_extension = next((k for k in KINDS.values() if extension.lower() in k.extensions), None)
    try:
        checked = validate_upload(upload("fichier" + extension, content))
    except ValidationError as error:
        assert error.code in {"empty", "extension", "content", "unreadable"}
        return
    # Accepted: the extension, the first bytes and the type served all say the same allowed format.
    assert by_extension is not None and content.startswith(by_extension.magic)
    assert checked.kind == by_extension.name
    assert checked.content_type == by_extension.content_type
