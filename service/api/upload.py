"""Read an uploaded image into memory only, never onto disk.

Starlette's form parser spools file parts over 1 MB to a temporary file; an
image sent for matching must never be written anywhere, so this module reads
the body itself: either a raw image body (`Content-Type: image/*` or
`application/octet-stream`) or one file part of `multipart/form-data`.
"""

from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from service.api.errors import ApiError

_MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


async def read_image_body(request: Request, limit: int) -> bytes:
    """The image bytes of this request, at most `limit` of them, held in memory."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    kind = content_type.decode("latin-1").lower()
    if kind == "multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(400, "bad_multipart", "multipart body has no boundary")
        body = await _read(request, limit + _MULTIPART_OVERHEAD)
        return _first_file_part(body, boundary, limit)
    if kind.startswith("image/") or kind == "application/octet-stream":
        return await _read(request, limit)
    raise ApiError(
        415,
        "unsupported_media_type",
        "send the image as multipart/form-data (field 'image') or as a raw image/* body",
    )


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "image_too_large", f"upload is larger than {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "image_too_large", f"upload is larger than {limit:,} bytes")
        chunks.append(chunk)
    if size == 0:
        raise ApiError(422, "unreadable_image", "the upload is empty")
    return b"".join(chunks)


def _first_file_part(body: bytes, boundary: bytes, limit: int) -> bytes:
    parts: list[bytearray] = []
    headers: list[bytes] = []
    current_header = bytearray()
    is_file: list[bool] = []

    def on_part_begin() -> None:
        parts.append(bytearray())
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current_header[:] = data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        headers.append(bytes(current_header).lower() + b":" + data[start:end])

    def on_headers_finished() -> None:
        disposition = next((h for h in headers if h.startswith(b"content-disposition:")), b"")
        is_file.append(b"filename=" in disposition)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].extend(data[start:end])
        if len(parts[-1]) > limit:
            raise ApiError(413, "image_too_large", f"image is larger than {limit:,} bytes")

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        parser.write(body)
        parser.finalize()
    except ApiError:
        raise
    except Exception:  # python-multipart raises several error types for broken bodies
        raise ApiError(400, "bad_multipart", "the multipart body could not be parsed") from None
    for part, file_flag in zip(parts, is_file, strict=False):
        if file_flag:
            if not part:
                raise ApiError(422, "unreadable_image", "the uploaded file is empty")
            return bytes(part)
    raise ApiError(422, "missing_image", "no file part found; send the image in field 'image'")
