"""Checking files that people upload (signed consents, documents) before anything is stored.

``validate_upload`` refuses a file that is too large, whose extension is not allowed, or whose
content does not match its extension (a program renamed ``.pdf`` is refused), and re-encodes images
so that their metadata (EXIF: camera, place, date; PNG text chunks) is not kept. A PDF carrying active
content (JavaScript, automatic or launch actions, embedded files) or HTML (a PDF/HTML polyglot) is
refused, and a picture's size is read from its header and capped before any pixel is decoded. Every
refusal is a ``ValidationError`` with a French message the person can act on.
"""

import io
import os
import re
import uuid
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Larger pictures are refused rather than decoded (a small file can expand into gigabytes, and a
# 7000 × 7000 picture costs seconds of CPU). 24 megapixels: a 6000 × 4000 photo, an A4 page at 600 dpi.
MAX_IMAGE_PIXELS = 24_000_000

# PDF names that make a document act on its own: scripts, actions run on opening or on an event,
# programs launched, files carried inside. Compared after decoding ``#xx`` escapes (« /J#61vaScript »).
ACTIVE_PDF_NAMES = frozenset(
    {"JS", "JavaScript", "AA", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA", "SubmitForm",
     "ImportData", "GoToE"}
)  # fmt: skip
_PDF_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
_PDF_STREAM = re.compile(rb"stream\r?\n")
# What a browser or a mail client would read as HTML or script in a file that also parses as a PDF.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|!doctype|body|head|iframe|object|embed|meta|form)\b"
    rb"|javascript\s*:|\bon(?:load|error|click|mouseover)\s*=",
    re.IGNORECASE,
)
# Inflating streams to look for hidden names stops there (a compressed stream can be a bomb too).
_MAX_INFLATED = 32 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    name: str
    label: str
    content_type: str
    extensions: tuple[str, ...]
    magic: bytes
    pillow_format: str = ""


KINDS = {
    "pdf": FileKind("pdf", "PDF", "application/pdf", (".pdf",), b"%PDF-"),
    "jpeg": FileKind("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg"), b"\xff\xd8\xff", "JPEG"),
    "png": FileKind("png", "PNG", "image/png", (".png",), b"\x89PNG\r\n\x1a\n", "PNG"),
}

DEFAULT_ALLOWED = frozenset({"pdf", "jpeg", "png"})


def download_name(stem: str, content_type: str) -> str:
    """The name a checked upload is downloaded under: stored names are random and have no extension."""
    kind = next((k for k in KINDS.values() if k.content_type == content_type), None)
    return f"{stem}{kind.extensions[0] if kind else '.bin'}"


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the checks: store ``file`` (re-encoded for images), serve ``content_type``."""

    file: File
    content_type: str
    kind: str

    @property
    def extension(self) -> str:
        return KINDS[self.kind].extensions[0]


def _formats(allowed) -> str:
    labels = [kind.label for name, kind in KINDS.items() if name in allowed]
    return (
        labels[0]
        if len(labels) == 1
        else _("%(list)s ou %(last)s")
        % {
            "list": ", ".join(labels[:-1]),
            "last": labels[-1],
        }
    )


def megabytes(size: int) -> str:
    """« 5 Mo », « 20,3 Mo »: sizes as people read them (1 Mo = 1 048 576 octets)."""
    value = size / (1024 * 1024)
    shown = number_format(value, decimal_pos=0 if value.is_integer() else 1)
    return _("%(value)s Mo") % {"value": shown}


def _sniff(head: bytes) -> FileKind | None:
    return next((kind for kind in KINDS.values() if head.startswith(kind.magic)), None)


def validate_upload(file, *, allowed=DEFAULT_ALLOWED, max_bytes: int = MAX_UPLOAD_BYTES) -> CheckedUpload:
    """Check an uploaded file and return what may be stored; raise ``ValidationError`` otherwise.

    The size comes first (nothing else is read from a file that is too large); then the extension
    and the first bytes of the content must both name the same allowed format. Images are decoded
    and written again without their metadata, upright (the EXIF orientation is applied first).
    """
    allowed = frozenset(allowed)
    size = file.size
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("Le fichier est trop volumineux (%(size)s) : la taille maximale est de %(max)s."),
            code="too_large",
            params={"size": megabytes(size), "max": megabytes(max_bytes)},
        )
    if not size:
        raise ValidationError(_("Le fichier est vide."), code="empty")
    extension = os.path.splitext(file.name or "")[1].lower()
    by_extension = next((k for k in KINDS.values() if extension in k.extensions), None)
    if by_extension is None or by_extension.name not in allowed:
        raise ValidationError(
            _("Ce format n'est pas accepté : déposez un fichier %(formats)s."),
            code="extension",
            params={"formats": _formats(allowed)},
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    by_content = _sniff(head)
    if by_content is None or by_content.name != by_extension.name:
        raise ValidationError(
            _(
                "Le contenu du fichier ne correspond pas à son extension (%(extension)s) : ce n'est pas "
                "un vrai fichier %(format)s. Déposez le document d'origine (%(formats)s)."
            ),
            code="content",
            params={"extension": extension, "format": by_extension.label, "formats": _formats(allowed)},
        )
    if by_content.name == "pdf":
        _refuse_active_pdf(file)
    if by_content.pillow_format:
        return CheckedUpload(
            file=_reencode(file, by_content), content_type=by_content.content_type, kind=by_content.name
        )
    return CheckedUpload(file=file, content_type=by_content.content_type, kind=by_content.name)


def _pdf_names(data: bytes) -> set[str]:
    names = set()
    for match in _PDF_NAME.finditer(data):
        raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        names.add(raw.decode("latin-1"))
    return names


def _split_streams(data: bytes) -> tuple[bytes, list[int]]:
    """The file without its stream bodies (binary data would match names by chance), and where the
    bodies of object streams (``/ObjStm``, which hold dictionaries, compressed) begin."""
    skeleton, objstm, position = [], [], 0
    for match in _PDF_STREAM.finditer(data):
        if match.start() < position:
            continue
        skeleton.append(data[position : match.end()])
        if b"/ObjStm" in data[max(position, match.start() - 1024) : match.start()]:
            objstm.append(match.end())
        end = data.find(b"endstream", match.end())
        position = len(data) if end < 0 else end
    skeleton.append(data[position:])
    return b"".join(skeleton), objstm


def _inflated(data: bytes, starts: list[int]):
    """The decompressed content of the object streams, up to a budget (a stream can be a bomb)."""
    budget, view = _MAX_INFLATED, memoryview(data)
    for start in starts:
        if budget <= 0:
            return
        try:
            chunk = zlib.decompressobj().decompress(view[start:], budget)
        except zlib.error:
            continue
        budget -= len(chunk)
        yield chunk


def _refuse_active_pdf(file) -> None:
    """Refuse a PDF that acts on its own (scripts, actions, embedded files) or that is also HTML."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    if _MARKUP.search(data):
        raise ValidationError(
            _(
                "Ce PDF contient aussi du code de page web (HTML ou script) : il est refusé. Imprimez-le "
                "à nouveau en PDF depuis votre logiciel, puis déposez ce nouveau fichier."
            ),
            code="pdf_polyglot",
        )
    skeleton, object_streams = _split_streams(data)
    found = _pdf_names(skeleton) & ACTIVE_PDF_NAMES
    if not found:
        for chunk in _inflated(data, object_streams):
            found = _pdf_names(chunk) & ACTIVE_PDF_NAMES
            if found:
                break
    if found:
        raise ValidationError(
            _(
                "Ce PDF contient des éléments actifs (%(found)s : script, action automatique ou fichier "
                "joint) : il est refusé. Imprimez-le à nouveau en PDF depuis votre logiciel, puis déposez "
                "ce nouveau fichier."
            ),
            code="pdf_active",
            params={"found": ", ".join(f"/{name}" for name in sorted(found))},
        )


def _reencode(file, kind: FileKind) -> ContentFile:
    """The picture's pixels only, in a new file: no EXIF, no text chunks, no ICC profile."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    unreadable = ValidationError(_("L'image est illisible ou endommagée."), code="unreadable")
    try:
        with Image.open(file) as image:
            if image.format != kind.pillow_format:
                raise unreadable
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _(
                        "L'image est trop grande (%(width)s × %(height)s pixels) : au plus %(max)s millions "
                        "de pixels. Réduisez-la ou numérisez le document à 300 ppp, puis déposez-la à "
                        "nouveau."
                    ),
                    code="too_many_pixels",
                    params={"width": width, "height": height, "max": MAX_IMAGE_PIXELS // 1_000_000},
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            transparency = upright.info.get("transparency")
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if upright.mode == "P":
                clean.putpalette(upright.getpalette())
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise unreadable from error
    finally:
        file.seek(0)
    out = io.BytesIO()
    if kind.pillow_format == "JPEG":
        if clean.mode not in {"RGB", "L", "CMYK"}:
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90, optimize=True)
    else:
        options = {"transparency": transparency} if transparency is not None else {}
        clean.save(out, "PNG", optimize=True, **options)
    return ContentFile(out.getvalue(), name=f"upload{kind.extensions[0]}")


@deconstructible
class RandomName:
    """``upload_to`` for a ``FileField``: ``<prefix>/<random hex>``, never the uploaded file's name.

    The original name often carries a person's name ("accord Dupont.pdf"); the stored name says
    nothing, and cannot be guessed. Usage: ``models.FileField(upload_to=RandomName("governance"))``.
    Files are stored under ``MEDIA_ROOT``, outside the static root, and no URL serves that folder:
    they are read only through a view that checks the permission (attachment, nosniff).
    """

    def __init__(self, prefix: str):
        self.prefix = prefix.strip("/")

    def __call__(self, instance, filename: str) -> str:
        return f"{self.prefix}/{uuid.uuid4().hex}"

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)
