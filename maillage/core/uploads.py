"""Checking files that people upload (signed consents, documents) before anything is stored.

``validate_upload`` refuses a file that is too large, whose extension is not allowed, or whose
content does not match its extension (a program renamed ``.pdf`` is refused), and re-encodes images
so that their metadata (EXIF: camera, place, date; PNG text chunks) is not kept. Every refusal is a
``ValidationError`` with a French message the person can act on.
"""

import io
import os
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Larger pictures are refused rather than decoded (a small file can expand into gigabytes).
MAX_IMAGE_PIXELS = 50_000_000


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
    if by_content.pillow_format:
        return CheckedUpload(
            file=_reencode(file, by_content), content_type=by_content.content_type, kind=by_content.name
        )
    return CheckedUpload(file=file, content_type=by_content.content_type, kind=by_content.name)


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
                    _("L'image est trop grande (%(width)s × %(height)s pixels)."),
                    code="too_many_pixels",
                    params={"width": width, "height": height},
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
