"""Access-checked file handling shared by every domain that keeps uploads (case attachments, MDF
proof of performance): size and type checks, content hashes, unguessable storage paths and the
streaming response. Files are never served from a public media URL: a view finds the row through
the access policy first and then streams it with `stream_file`."""

import hashlib
import mimetypes
import uuid

from django.core.exceptions import ValidationError
from django.http import FileResponse

DEFAULT_ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def validate_upload(upload, *, max_bytes: int, allowed_types=DEFAULT_ALLOWED_TYPES, field: str = "file") -> str:
    """Refuse empty, oversized and disallowed files (the declared type must be allowed and agree with
    the file name's extension); returns the content type."""
    errors = []
    size = getattr(upload, "size", None) or 0
    if size == 0:
        errors.append("The file is empty.")
    elif size > max_bytes:
        errors.append(f"Files may be at most {max_bytes // (1024 * 1024)} MB.")
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    guessed, _ = mimetypes.guess_type(getattr(upload, "name", "") or "")
    if declared not in allowed_types or guessed != declared:
        errors.append("This file type is not allowed (PDF, images, text, CSV, ZIP and Office documents are).")
    if errors:
        raise ValidationError({field: errors})
    return declared


def upload_name(upload) -> str:
    return (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:200]


def sha256_hex(upload) -> str:
    """The SHA-256 of an uploaded file's content, read in chunks (the file is rewound after)."""
    digest = hashlib.sha256()
    if hasattr(upload, "seek"):
        upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return digest.hexdigest()


def private_path(prefix: str, owner_id, filename: str) -> str:
    # An unguessable directory: files are served through the access policy, and a media URL that
    # leaked (or a dev server serving MEDIA_ROOT) must not be enumerable.
    return f"{prefix}/{owner_id}/{uuid.uuid4().hex}/{filename}"


def stream_file(stored) -> FileResponse:
    """Stream a stored upload (a row with `file`, `filename` and `content_type`) as a download.
    Call it only with a row read through the access policy."""
    return FileResponse(
        stored.file.open("rb"), as_attachment=True, filename=stored.filename, content_type=stored.content_type
    )
