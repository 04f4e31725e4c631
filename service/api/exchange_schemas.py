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
                        }
                    ],
                    "next_cursor": "41",
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
