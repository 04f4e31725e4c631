"""Domain errors of the hashing package.

They carry a plain-language reason and no HTTP: the CLI prints them and the
service maps each class to one status code.
"""


class HashingError(Exception):
    """Base class: something about this input cannot be hashed."""


class UnreadableImage(HashingError):
    """The bytes are empty, truncated, not an image, or a format we cannot decode."""


class ImageTooLarge(HashingError):
    """The image declares more pixels than the configured limit (decompression-bomb guard)."""

    def __init__(
        self, max_pixels: int, width: int | None = None, height: int | None = None
    ) -> None:
        self.width, self.height, self.max_pixels = width, height, max_pixels
        size = (
            f"{width}x{height} = {width * height:,} pixels"
            if width and height
            else "too many pixels"
        )
        super().__init__(f"image is too large: {size}, the limit is {max_pixels:,}")


class LowQualityImage(HashingError):
    """The image has too little detail for a reliable hash (e.g. PDQ quality < 50)."""

    def __init__(self, algorithm: str, quality: int, minimum: int) -> None:
        self.algorithm, self.quality, self.minimum = algorithm, quality, minimum
        super().__init__(
            f"image has too little detail to hash reliably "
            f"({algorithm} quality {quality}, at least {minimum} needed)"
        )


class UnknownAlgorithm(HashingError):
    """A hash names an algorithm this project does not support."""

    def __init__(self, name: str, known: list[str], kind: str = "hash algorithm") -> None:
        self.name = name
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(known)}")


class InvalidHash(HashingError):
    """A hash value is not well-formed for its algorithm (length, hex digits)."""


class UnreadableVideo(HashingError):
    """The bytes are empty, truncated, damaged, not a video container we accept, or hold no video.

    Accepted containers are ISO base media (MP4, MOV, 3GP) and Matroska (MKV,
    WebM); a file that ends before its declared content is refused whole.
    """


class VideoTooLarge(HashingError):
    """The file or its frames are larger than the configured limits (bytes, pixels per frame)."""

    def __init__(self, what: str, value: int, limit: int) -> None:
        self.what, self.value, self.limit = what, value, limit
        super().__init__(f"video is too large: {what} {value:,}, the limit is {limit:,}")


class VideoTooLong(HashingError):
    """The video lasts longer, has more frames or takes longer to decode than the limits allow."""

    def __init__(self, what: str, value: float, limit: float, unit: str = "") -> None:
        self.what, self.value, self.limit = what, value, limit
        super().__init__(
            f"video is too long: {what} {_number(value)}{unit}, the limit is {_number(limit)}{unit}"
        )


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
