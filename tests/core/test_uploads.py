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


# --- active PDFs, polyglots and pictures too large to decode (issue #13, point 11) -----------------


def _pdf(build=None, *, compress: bool = False) -> bytes:
    """A real one-page PDF made by pypdf, changed by ``build(writer)`` first."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    if compress:
        page.compress_content_streams()
    if build:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _document_js(writer):
    from pypdf.actions import JavaScript

    writer.add_open_action(JavaScript("app.alert('x');"))


def _open_action_js(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _page_aa(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): writer._add_object(action)})


def _hand_pdf(body: bytes) -> bytes:
    return b"%PDF-1.7\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _object_stream_with_js() -> bytes:
    """A JavaScript action hidden in a compressed object stream: no « /JS » in the file's bytes."""
    import zlib

    inner = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    header = b"5 0 "
    packed = zlib.compress(header + inner)
    return _hand_pdf(
        b"1 0 obj << /Type /Catalog /OpenAction 5 0 R >> endobj\n"
        b"4 0 obj << /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream\nendobj"
    )


ACTIVE_PDFS = {
    "javascript (pypdf add_open_action)": lambda: _pdf(_document_js),
    "open action running javascript": lambda: _pdf(_open_action_js),
    "page additional action launching a program": lambda: _pdf(_page_aa),
    "embedded file": lambda: _pdf(lambda w: w.add_attachment("programme.exe", b"MZ\x90\x00")),
    "name written with #xx escapes": lambda: _hand_pdf(
        b"1 0 obj << /Type /Catalog /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >> endobj"
    ),
    "javascript inside a compressed object stream": _object_stream_with_js,
}


@pytest.mark.parametrize("case", sorted(ACTIVE_PDFS))
def test_a_pdf_with_active_content_is_refused(case):
    content = ACTIVE_PDFS[case]()
    assert content.startswith(b"%PDF-")

    with pytest.raises(ValidationError) as error:
        validate_upload(upload("compte-rendu.pdf", content))

    assert error.value.code == "pdf_active"
    assert "éléments actifs" in messages(error)


POLYGLOTS = {
    "html after the header": _hand_pdf(
        b"1 0 obj << /Type /Catalog >> endobj\n"
        b"<html><body><script>alert(document.cookie)</script></body></html>"
    ),
    "html in a pdf comment": b"%PDF-1.4\n%<!DOCTYPE html><iframe src=x></iframe>\n" + PDF[9:],
    "event handler in a string": _hand_pdf(b"1 0 obj << /Title (<svg onload=alert(1)>) >> endobj"),
}


@pytest.mark.parametrize("case", sorted(POLYGLOTS))
def test_a_pdf_that_is_also_html_is_refused(case):
    with pytest.raises(ValidationError) as error:
        validate_upload(upload("ordre-du-jour.pdf", POLYGLOTS[case]))

    assert error.value.code == "pdf_polyglot"
    assert "HTML" in messages(error)


def test_ordinary_pdfs_with_compressed_content_and_an_image_are_accepted():
    from pypdf import PdfWriter

    photo = io.BytesIO()
    Image.effect_noise((300, 300), 90).convert("RGB").save(photo, "JPEG")  # binary stream data
    picture = io.BytesIO()
    Image.open(photo).save(picture, "PDF")
    writer = PdfWriter(clone_from=io.BytesIO(picture.getvalue()))
    writer.add_metadata({"/Title": "Compte rendu du comité technique"})
    writer.add_outline_item("Ordre du jour", 0)
    out = io.BytesIO()
    writer.write(out)

    for content in (_pdf(compress=True), out.getvalue(), PDF):
        checked = validate_upload(upload("document.pdf", content))
        assert checked.content_type == "application/pdf"


def test_a_7000_pixel_square_png_is_refused_from_its_header_before_any_decoding():
    import time

    out = io.BytesIO()
    Image.new("L", (7000, 7000)).save(out, "PNG")
    assert len(out.getvalue()) < MAX_UPLOAD_BYTES  # it compresses small

    started = time.process_time()
    with pytest.raises(ValidationError) as error:
        validate_upload(upload("scan.png", out.getvalue()))
    spent = time.process_time() - started

    assert error.value.code == "too_many_pixels"
    assert "7000 × 7000" in messages(error) and "millions de pixels" in messages(error)
    assert spent < 0.5, f"{spent:.2f} s of CPU: the picture was decoded"


def test_a_photo_of_24_megapixels_is_still_accepted():
    out = io.BytesIO()
    Image.new("L", (6000, 4000)).save(out, "PNG")
    assert validate_upload(upload("photo.png", out.getvalue())).content_type == "image/png"
