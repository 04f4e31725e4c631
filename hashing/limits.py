"""What one request to the service may carry, as the clients split their requests by it.

A server tells its own limits at `GET /v1/limits` (no credentials: they are no
secret), and an operator may change them (`HASHBANK_*` settings); the clients
ask once per client (`hashing.transport.Transport.limits`) and read the answer
with `Limits.from_json`. A server older than that route answers 404, and the
clients then use `DEFAULT_LIMITS`: the defaults of the service's own settings
(`service.settings.Settings`, kept equal by a test), the limits such a server
has unless its operator changed them.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

from hashing.policy import MAX_QUERY_HASHES

__all__ = [
    "DEFAULT_CASE_HASHES",
    "DEFAULT_FEED_PAGE",
    "DEFAULT_IMAGE_BYTES",
    "DEFAULT_IMAGE_PIXELS",
    "DEFAULT_JSON_BODY_BYTES",
    "DEFAULT_LIMITS",
    "DEFAULT_MATCH_HASHES",
    "DEFAULT_MATCH_ITEMS",
    "DEFAULT_MATCH_ITEM_HASHES",
    "DEFAULT_VIDEO_FRAMES",
    "Limits",
    "batches",
]

DEFAULT_CASE_HASHES = 100  # HASHBANK_MAX_HASHES_PER_CASE
DEFAULT_MATCH_ITEMS = 1000  # HASHBANK_MAX_MATCH_BATCH
DEFAULT_MATCH_HASHES = 8192  # HASHBANK_MAX_MATCH_HASHES: 128 images of 64 query hashes
DEFAULT_MATCH_ITEM_HASHES = MAX_QUERY_HASHES  # one image's query hashes (hashing.policy)
DEFAULT_FEED_PAGE = 1000  # HASHBANK_EXCHANGE_PAGE_MAX
DEFAULT_JSON_BODY_BYTES = 2 * 1024 * 1024  # fixed in the service (service.api.body_limits)
DEFAULT_IMAGE_BYTES = 20 * 1024 * 1024  # HASHBANK_MAX_UPLOAD_BYTES
DEFAULT_IMAGE_PIXELS = 100_000_000  # HASHBANK_MAX_IMAGE_PIXELS
DEFAULT_VIDEO_FRAMES = 3600  # HASHBANK_MAX_VIDEO_FRAMES: an hour at 1 frame per second


@dataclass(frozen=True, slots=True)
class Limits:
    """One server's limits per request; every field is a positive count.

    The field names are those of the `GET /v1/limits` reply.
    """

    case_hashes: int  # hashes per POST /v1/cases or POST /v1/cases/{id}/hashes
    match_items: int  # items per POST /v1/match
    match_hashes: int  # hashes one POST /v1/match searches: every item's hash and variants
    match_item_hashes: int  # hashes per item: its hash and at most this many minus 1 variants
    feed_page: int  # the largest `limit` of GET /v1/hashes/changes
    json_body_bytes: int  # the largest JSON request body
    image_bytes: int  # the largest image POST /v1/match/image takes
    image_pixels: int  # the most pixels an image sent there may declare
    video_frames: int  # video frame hashes per case request or POST /v1/match/video

    @classmethod
    def from_json(cls, data: object) -> "Limits":
        """Read a `GET /v1/limits` reply.

        A field the reply leaves out (a server between versions) keeps its default;
        fields this client does not know are ignored. `ValueError` when the reply is
        not an object or a known field is not a positive integer.
        """
        if not isinstance(data, dict):
            raise ValueError("the limits are not a JSON object")
        values: dict[str, int] = {}
        for f in fields(cls):
            value = data.get(f.name, getattr(DEFAULT_LIMITS, f.name))
            # bool is an int in Python, not in JSON: `true` is no count.
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {f.name!r} is not a positive integer")
            values[f.name] = value
        return cls(**values)


DEFAULT_LIMITS = Limits(
    case_hashes=DEFAULT_CASE_HASHES,
    match_items=DEFAULT_MATCH_ITEMS,
    match_hashes=DEFAULT_MATCH_HASHES,
    match_item_hashes=DEFAULT_MATCH_ITEM_HASHES,
    feed_page=DEFAULT_FEED_PAGE,
    json_body_bytes=DEFAULT_JSON_BODY_BYTES,
    image_bytes=DEFAULT_IMAGE_BYTES,
    image_pixels=DEFAULT_IMAGE_PIXELS,
    video_frames=DEFAULT_VIDEO_FRAMES,
)


def batches(sizes: Sequence[int], max_items: int, max_hashes: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive runs of items, in order, each of at most `max_items`
    items and `max_hashes` hashes; `sizes` holds each item's hash count.

    No run is empty: an item larger than `max_hashes` on its own makes a run of one,
    which the server then refuses with its own reason.
    """
    start, hashes = 0, 0
    for i, size in enumerate(sizes):
        if i > start and (i - start == max_items or hashes + size > max_hashes):
            yield start, i
            start, hashes = i, 0
        hashes += size
    if start < len(sizes):
        yield start, len(sizes)
