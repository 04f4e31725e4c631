"""Request and response bodies of the public API, with the examples shown at /docs."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hashing import DIHEDRAL_NAMES, SIGNAL_TYPES
from hashing.policy import DEFAULT_POLICY, MAX_QUERY_HASHES

PDQ_EXAMPLE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
# From the registry: a new signal type shows up in /docs by itself.
SIGNAL_TYPE_NAMES = "The signal type: " + "; ".join(
    f"`{s.name}` ({s.description})" for s in SIGNAL_TYPES
)


class HashIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"algorithm": "pdq", "hash": PDQ_EXAMPLE, "quality": 100}]},
    )

    algorithm: Annotated[str, Field(max_length=16, description=SIGNAL_TYPE_NAMES)]
    hash: Annotated[str, Field(max_length=128, description="lowercase hex")]
    # strict: the schema says integer, and pydantic's lax mode would take `false` as 0.
    quality: Annotated[
        int | None,
        Field(
            strict=True,
            ge=0,
            le=100,
            description="The hash's quality, if its signal type has one (PDQ: refused below 50)",
        ),
    ] = None
    image: Annotated[
        int | None,
        Field(
            strict=True,
            ge=0,
            le=9999,
            description="Which image or video of this request the hash is of (0, 1, ...): "
            "the match policy sends several hashes per image (hashing.policy), a video is its "
            "frame hashes and its MD5, and a dispute suspends all of one image's or video's "
            "hashes together. Required for video frames.",
        ),
    ] = None
    timestamp: Annotated[
        float | None,
        Field(
            ge=0,
            le=1_000_000,
            description="A video frame's time in seconds from the start of its video; "
            "required for video frame hashes (vpdq), not allowed for others",
        ),
    ] = None
    variant: Annotated[
        bool,
        Field(
            strict=True,
            description="A video frame hash only: true when this is another form of the "
            "frame at `timestamp` (its plain borders trimmed, a centre crop: "
            "hashing.video_forms) rather than the frame's own vPDQ hash. It counts as that "
            "frame when matching and is left out of exports in Meta's vPDQ format",
        ),
    ] = False


class HashList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: Annotated[list[HashIn], Field(min_length=1)]


class CaseHashOut(BaseModel):
    algorithm: str
    hash: str
    state: Literal["active", "withdrawn", "disputed", "retired"] = Field(
        description="active: matching; withdrawn: by you; disputed: suspended while an operator "
        "reviews platforms' reports that the image is not intimate; retired: removed after review"
    )
    added_at: datetime
    withdrawn_at: datetime | None
    image: int | None = Field(
        description="Which of the case's images or videos it is of, numbered from 0 across "
        "requests (none if the request did not say)"
    )
    timestamp: float | None = Field(
        None, description="A video frame's time in seconds in its video (none for others)"
    )
    variant: bool = Field(
        False, description="Another form of the video frame at `timestamp`, not a frame"
    )


class OutcomeOut(BaseModel):
    match_id: str
    platform: str
    outcome: str = Field(
        description="matched (no report yet), pending_review, removed, not_violating"
    )
    matched_at: datetime
    reported_at: datetime | None


class CaseStatusOut(BaseModel):
    case_id: str
    state: Literal["active", "withdrawn"]
    created_at: datetime
    withdrawn_at: datetime | None
    hashes: list[CaseHashOut]
    match_count: int
    outcome_counts: dict[str, int]
    outcomes: list[OutcomeOut]


class NewCaseOut(BaseModel):
    case_id: str
    case_key: str = Field(
        description="Shown once. Store it safely: it cannot be recovered, and it is needed "
        "to check status, add images or withdraw."
    )
    status: CaseStatusOut


class MatchItemIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"algorithm": "pdq", "hash": PDQ_EXAMPLE, "ref": "upload-17"}]
        },
    )

    algorithm: Annotated[str, Field(max_length=16, description=SIGNAL_TYPE_NAMES)]
    hash: Annotated[str, Field(max_length=128)]
    variants: Annotated[
        list[Annotated[str, Field(max_length=128)]],
        Field(
            default_factory=list,
            max_length=MAX_QUERY_HASHES - 1,
            # The forms after the first, the image as uploaded, whose own hash is `hash`.
            description="The image's other query hashes (hashing.policy.query_hashes), in "
            f"order: its other {len(DIHEDRAL_NAMES) - 1} dihedral hashes (rotations, flips), "
            f"then the {len(DIHEDRAL_NAMES)} of each of "
            f"{', '.join(DEFAULT_POLICY.describe('queried')[1:])}; a form below its PDQ "
            "quality floor is left out",
        ),
    ]
    ref: Annotated[
        str | None, Field(max_length=200, description="Your own reference, echoed back")
    ] = None


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[MatchItemIn], Field(min_length=1)]


class MatchOut(BaseModel):
    match_id: str
    algorithm: str
    distance: int


class MatchItemOut(BaseModel):
    index: int
    ref: str | None
    matches: list[MatchOut]


class MatchResponse(BaseModel):
    results: list[MatchItemOut]


class ImageMatchResponse(BaseModel):
    matches: list[MatchOut]
    quality: int


class FrameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hash: Annotated[str, Field(max_length=64, description="The frame's PDQ hash (vpdq), hex")]
    timestamp: Annotated[
        float, Field(ge=0, le=1_000_000, description="Its time in seconds in the video")
    ]
    quality: Annotated[
        int | None,
        Field(strict=True, ge=0, le=100, description="Its PDQ quality; refused below 50"),
    ] = None
    variants: Annotated[
        list[Annotated[str, Field(max_length=64)]],
        Field(
            default_factory=list,
            max_length=8,
            description="The PDQ hashes of the frame's other forms (trimmed, centre crop, "
            "mirrored: hashing.video_forms), at most 8: a cropped, letterboxed or mirrored "
            "copy then matches too; the frame still counts once",
        ),
    ]


class VideoMatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frames: Annotated[
        list[FrameIn],
        Field(
            default_factory=list,
            description="The video's vPDQ frames (Meta recommends 1 per second), any order",
        ),
    ]
    md5: Annotated[
        str | None, Field(max_length=32, description="The MD5 of the video file, if known")
    ] = None
    ref: Annotated[
        str | None, Field(max_length=200, description="Your own reference, echoed back")
    ] = None


class TimeRange(BaseModel):
    start: float
    end: float


class VideoMatchOut(BaseModel):
    match_id: str
    algorithm: str = Field(
        description="The closest stored hash's type: vpdq, pdq (a photo "
        "shown in the video) or md5 (the same file)"
    )
    distance: int
    query_percent: float = Field(
        description="Of your video's distinct frames, the share that match this case item"
    )
    stored_percent: float | None = Field(
        description="Of the case video's frames, the share your frames match; none when "
        "the case item is a photo"
    )
    query_ranges: list[TimeRange] = Field(description="Where in your video the matches are")
    stored_ranges: list[TimeRange] = Field(description="Where in the case video they are")


class VideoMatchResponse(BaseModel):
    ref: str | None
    matches: list[VideoMatchOut]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"match_id": "m_0123456789abcdef0123", "outcome": "removed"}]
        },
    )

    match_id: Annotated[str, Field(max_length=32)]
    outcome: Literal["pending_review", "removed", "not_violating"]


class FeedbackOut(BaseModel):
    match_id: str
    outcome: str
    recorded_at: datetime


class LimitsOut(BaseModel):
    """What one request to this server may carry (`GET /v1/limits`); clients split by it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_hashes": 100,
                    "match_items": 1000,
                    "match_hashes": 8192,
                    "match_item_hashes": MAX_QUERY_HASHES,
                    "feed_page": 1000,
                    "json_body_bytes": 2097152,
                    "image_bytes": 20971520,
                    "image_pixels": 100000000,
                    "video_frames": 3600,
                }
            ]
        }
    )

    video_frames: int = Field(
        description="Most video frame hashes (vpdq) one case request or POST /v1/match/video "
        "carries, its videos together (HASHBANK_MAX_VIDEO_FRAMES); not counted in case_hashes"
    )
    case_hashes: int = Field(
        description="Most hashes one POST /v1/cases or POST /v1/cases/{case_id}/hashes "
        "carries (HASHBANK_MAX_HASHES_PER_CASE); more images go in further additions"
    )
    match_items: int = Field(
        description="Most items one POST /v1/match carries (HASHBANK_MAX_MATCH_BATCH)"
    )
    match_hashes: int = Field(
        description="Most hashes one POST /v1/match searches, every item's hash and its "
        "variants counted (HASHBANK_MAX_MATCH_HASHES)"
    )
    match_item_hashes: int = Field(
        description="Most hashes one item carries: its hash and up to this many minus one "
        "variants (hashing.policy.MAX_QUERY_HASHES, the match policy's query hashes)"
    )
    feed_page: int = Field(
        description="Largest `limit` of GET /v1/hashes/changes (HASHBANK_EXCHANGE_PAGE_MAX)"
    )
    json_body_bytes: int = Field(description="Largest JSON request body, in bytes")
    image_bytes: int = Field(
        description="Largest image POST /v1/match/image takes, in bytes (HASHBANK_MAX_UPLOAD_BYTES)"
    )
    image_pixels: int = Field(
        description="Most pixels an image sent to POST /v1/match/image may declare "
        "(HASHBANK_MAX_IMAGE_PIXELS)"
    )


class ErrorDetail(BaseModel):
    location: str
    reason: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` for routes that can answer these statuses (all in one shape)."""
    return {code: {"model": ErrorResponse} for code in codes}
