"""Bodies of the partner feeds: our delta feed and the StopNCII hash-exchange shape.

The StopNCII names and enum strings are theirs (camelCase, `ImagePDQ`,
`Blocked`, ...), kept exactly as Meta's `threatexchange` client parses them.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas import PDQ_EXAMPLE


class ChangeOut(BaseModel):
    seq: int
    algorithm: str
    hash: str
    action: Literal["add", "remove"] = Field(
        description="add: the hash is now matchable; remove: delete it from your copy"
    )
    state: Literal["active", "withdrawn", "disputed", "retired"]
    changed_at: datetime
    quality: int | None = Field(
        None, description="The hash's quality (PDQ and vPDQ frames, 0-100), when known"
    )
    item: str | None = Field(
        None,
        description="A video's hashes only (its vPDQ frames and its MD5): an opaque, stable "
        "reference of the video (`v_...`), the same on every entry of that video. It names "
        "no case and tells nothing about other videos. Group a video's entries by it",
    )
    timestamp: float | None = Field(
        None, description="A video frame's time in seconds from the start of its video"
    )
    item_action: Literal["add", "remove"] | None = Field(
        None,
        description="With `item`: add: this hash is part of the video; remove: it no longer "
        "is (the video was withdrawn or is suspended). A video's entries arrive together, "
        "on one page, and always all of them: apply them as one change of the video. "
        "`action` still says whether the hash itself matches (another video or photo may "
        "hold it)",
    )
    variant: bool = Field(
        False,
        description="A video frame's entry only: true when the hash is another form of the "
        "frame at `timestamp` (its borders trimmed, a centre crop: hashing.video_forms), "
        "not a frame of the video in Meta's sense. Match with it like a frame to catch "
        "cropped and letterboxed copies; leave it out of a video given to Meta's vPDQ "
        "matcher, which would count it as a frame",
    )


class ChangesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "changes": [
                        {
                            "seq": 41,
                            "algorithm": "pdq",
                            "hash": PDQ_EXAMPLE,
                            "action": "remove",
                            "state": "withdrawn",
                            "changed_at": "2026-11-23T10:00:00Z",
                        },
                        {
                            "seq": 42,
                            "algorithm": "vpdq",
                            "hash": PDQ_EXAMPLE,
                            "action": "add",
                            "state": "active",
                            "changed_at": "2026-11-23T10:01:00Z",
                            "quality": 100,
                            "item": "v_4f1c09a2d6b8e3775a10",
                            "timestamp": 2.0,
                            "item_action": "add",
                        },
                    ],
                    "next_cursor": "42",
                    "has_more": False,
                }
            ]
        }
    )

    changes: list[ChangeOut]
    next_cursor: str = Field(description="Pass back as `cursor`; store it once applied.")
    has_more: bool


StopNCIIStatus = Literal["Active", "Withdrawn", "Deleted"]


class StopNCIIFeedback(BaseModel):
    feedbackValue: str
    tags: list[str] = []
    source: str


class StopNCIIHashRecord(BaseModel):
    lastModtimestamp: int
    signalType: str = Field(description="ImagePDQ or VideoMD5: the signal type's StopNCII name")
    hashValue: str
    hashStatus: StopNCIIStatus
    caseNumbers: dict[str, StopNCIIStatus]
    CSPFeedbacks: list[StopNCIIFeedback]


class FetchHashesOut(BaseModel):
    count: int
    nextPageToken: str | None
    nextSetTimestamp: int
    hasMoreRecords: bool
    hashRecords: list[StopNCIIHashRecord]


class StopNCIIFeedbackIn(BaseModel):
    hashValue: Annotated[str, Field(max_length=128)]
    feedbackValue: Literal[
        "Unknown",
        "None",
        "QualityUnknown",
        "PendingReview",
        "Blocked",
        "NotBlocked",
        "Withdrawn",
        "Deleted",
    ]
    tags: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)


class SubmitFeedbackIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count": 1,
                    "hashFeedbacks": [
                        {"hashValue": PDQ_EXAMPLE, "feedbackValue": "Blocked", "tags": []}
                    ],
                }
            ]
        }
    )

    count: Annotated[int | None, Field(strict=True, ge=0, le=1000)] = None
    hashFeedbacks: Annotated[list[StopNCIIFeedbackIn], Field(max_length=1000)]


class SubmitFeedbackOut(BaseModel):
    count: int = Field(description="Reports recorded")
    unknownHashes: int = Field(description="Hashes this service does not hold (ignored)")
    ignored: int = Field(description="Feedback values with no meaning here (e.g. None, Unknown)")
