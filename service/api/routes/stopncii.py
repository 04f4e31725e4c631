"""The StopNCII hash-exchange API shape, for partners already running Meta's tooling.

Meta's `threatexchange` client (`StopNCIIAPI(..., base_url_override=
"https://<host>/stopncii/v1")`) works unchanged: FetchHashes pages through
the hashes of every signal type StopNCII has a name for (the descriptor's
`stopncii`: PDQ as `ImagePDQ`, MD5 as `VideoMD5`), each hash once, at its
latest change; withdrawn hashes come back as `Withdrawn`, disputed and
retired ones as `Deleted`. SubmitFeedback records outcomes by hash; its items
carry no signal type, so a hash is taken as the first of those signal types
whose format it has (their widths differ). The two headers carry hashbank API keys of one
platform; the function key must hold the endpoint's scope (`sync` to fetch,
`feedback` to report).
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from hashing import SIGNAL_TYPES, HashingError
from service.api.deps import ExchangeDep, SettingsDep, stopncii_caller
from service.api.exchange_schemas import (
    FetchHashesOut,
    StopNCIIFeedback,
    StopNCIIHashRecord,
    StopNCIIStatus,
    SubmitFeedbackIn,
    SubmitFeedbackOut,
)
from service.api.schemas import error_responses
from service.failures import Invalid
from service.store.platforms import Caller

router = APIRouter(prefix="/stopncii/v1", tags=["StopNCII-compatible exchange"])
_ERRORS = error_responses(401, 403, 422)
_STATUS: dict[str, StopNCIIStatus] = {
    "active": "Active",
    "withdrawn": "Withdrawn",
    "disputed": "Deleted",
    "retired": "Deleted",
}
_REPORTED = {"removed": "Blocked", "not_violating": "NotBlocked", "pending_review": "PendingReview"}
_OUTCOME = {value: outcome for outcome, value in _REPORTED.items()}

# 9999-12-31T23:59:59Z: a datetime holds no later second.
LATEST_TIMESTAMP = 253_402_300_799

FetchCaller = Annotated[Caller, stopncii_caller("sync")]
FeedbackCaller = Annotated[Caller, stopncii_caller("feedback")]


@router.get("/FetchHashes", response_model=FetchHashesOut, responses=_ERRORS)
def fetch_hashes(
    caller: FetchCaller,
    exchange: ExchangeDep,
    settings: SettingsDep,
    startTimestamp: Annotated[int, Query(ge=0, le=LATEST_TIMESTAMP)] = 10,  # noqa: N803 (their names)
    pageSize: Annotated[int, Query(ge=1, le=1000)] = 800,  # noqa: N803
    # 18 digits stay below 2**63, the largest sequence number the database holds.
    nextPageToken: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]+$")] = None,  # noqa: N803
) -> FetchHashesOut:
    """Hashes (PDQ, MD5) changed at or after `startTimestamp` (Unix seconds), paged.

    Store `nextSetTimestamp` after each page and pass it as `startTimestamp`
    next time: hashes changed in that second are sent again, none are missed.
    """
    since = datetime.fromtimestamp(startTimestamp, UTC)
    theirs = {s.name: s.stopncii for s in SIGNAL_TYPES.in_exchange("stopncii")}
    # A smaller page than asked for is within their protocol: hasMoreRecords says so.
    size = min(pageSize, settings.exchange_page_max)
    records, more = exchange.latest_records(list(theirs), since, int(nextPageToken or 0), size)
    out = [
        StopNCIIHashRecord(
            lastModtimestamp=int(r.changed_at.timestamp()),
            signalType=theirs[r.algorithm],
            hashValue=r.hash,
            hashStatus=_STATUS[r.state],
            caseNumbers={
                case_id: "Active" if state == "active" else "Withdrawn"
                for case_id, state in r.cases.items()
            },
            CSPFeedbacks=[
                StopNCIIFeedback(feedbackValue=_REPORTED[outcome], tags=[], source=platform)
                for platform, outcome in r.reports.items()
            ],
        )
        for r in records
    ]
    return FetchHashesOut(
        count=len(out),
        # The client loops while hasMoreRecords, so a token must come with it.
        nextPageToken=str(records[-1].seq) if more else None,
        nextSetTimestamp=out[-1].lastModtimestamp if out else startTimestamp,
        hasMoreRecords=more,
        hashRecords=out,
    )


@router.post("/SubmitFeedback", response_model=SubmitFeedbackOut, responses=_ERRORS)
def submit_feedback(
    body: SubmitFeedbackIn, caller: FeedbackCaller, exchange: ExchangeDep
) -> SubmitFeedbackOut:
    """Outcomes by hash (PDQ or MD5): `Blocked` (removed), `NotBlocked`, `PendingReview`.

    Other StopNCII values (`None`, `Unknown`, ...) are accepted and ignored.
    Hashes this service does not hold are counted, not stored. All or nothing.
    """
    if body.count is not None and body.count != len(body.hashFeedbacks):
        raise Invalid(
            f"count is {body.count} but {len(body.hashFeedbacks)} feedbacks were sent",
            "count_mismatch",
        )
    reports: list[tuple[str, bytes, str]] = []
    problems = []
    ignored = 0
    for i, item in enumerate(body.hashFeedbacks):
        try:
            algorithm, value = _by_format(item.hashValue)
        except HashingError as exc:
            problems.append({"location": f"hashFeedbacks.{i}.hashValue", "reason": str(exc)})
            continue
        outcome = _OUTCOME.get(item.feedbackValue)
        if outcome is None:
            ignored += 1
        else:
            reports.append((algorithm, value, outcome))
    if problems:
        raise Invalid("some hashes are not valid; nothing was saved", "invalid_hash", problems)
    recorded, unknown = exchange.feedback_by_hash(caller.platform_id, reports)
    return SubmitFeedbackOut(count=recorded, unknownHashes=unknown, ignored=ignored)


def _by_format(text: str) -> tuple[str, bytes]:
    """The first StopNCII signal type that parses `text`, and the value; else the first's error."""
    kinds = SIGNAL_TYPES.in_exchange("stopncii")
    for signal_type in kinds:
        try:
            return signal_type.name, signal_type.parse(text)
        except HashingError:
            continue
    names = " or ".join(f"{s.name} ({s.bits // 4} hex digits)" for s in kinds)
    raise HashingError(f"hashValue must be a {names} hash")
