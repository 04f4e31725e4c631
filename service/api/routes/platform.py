"""Platform routes: match hashes, match an uploaded image, report what was done with a match."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import FeedbackCaller, MatchCaller, ServicesDep
from service.api.schemas import (
    FeedbackIn,
    FeedbackOut,
    ImageMatchResponse,
    MatchOut,
    MatchRequest,
    MatchResponse,
    error_responses,
)
from service.api.upload import read_image_body
from service.match.matcher import hashes_searched

router = APIRouter(prefix="/v1", tags=["platform"])
_ERRORS = error_responses(401, 403, 404, 413, 422)


# Batches up to this size are searched on the event loop: the search takes well
# under a millisecond, less than handing it to a thread would cost.
_INLINE_ITEMS = 8


@router.post("/match", response_model=MatchResponse, responses=_ERRORS)
async def match_hashes(
    body: MatchRequest, caller: MatchCaller, services: ServicesDep
) -> JSONResponse:
    """Match up to 1,000 items and 8,192 hashes in all: each item is one image's hash and
    up to 63 variants (its other query hashes, `hashing.policy.query_hashes`).

    A request that searches more hashes than that (each item's hash and its variants;
    `HASHBANK_MAX_MATCH_HASHES`) gets 413 `too_many_hashes`, more items 413
    `batch_too_large`. Every hit is recorded and gets a `match_id` to report feedback
    against.
    """
    matcher, items = services.matcher, body.items
    if len(items) <= _INLINE_ITEMS:
        hits = matcher.find(items)
    else:
        hits = await run_in_threadpool(matcher.find, items)
    # Only a hit touches the database (to check it is still active and record it).
    if hits:
        results = await run_in_threadpool(matcher.record, caller.platform_id, len(items), hits)
    else:
        results = [[] for _ in items]
    matcher.tally("hashes", hashes_searched(items), results)
    # Built as plain JSON: these few fields need no second validation pass against
    # `MatchResponse`, which still documents the shape at /docs.
    return JSONResponse(
        {
            "results": [
                {"index": i, "ref": item.ref, "matches": results[i]} for i, item in enumerate(items)
            ]
        }
    )


_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"image": {"type": "string", "format": "binary"}},
                    "required": ["image"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/match/image",
    response_model=ImageMatchResponse,
    # 400: a multipart body that does not parse; 503: the decode budget stayed full.
    responses={**_ERRORS, **error_responses(400, 503)},
    openapi_extra=_IMAGE_BODY,
)
async def match_image(
    request: Request, caller: MatchCaller, services: ServicesDep
) -> ImageMatchResponse:
    """Hash an image in memory with hashbank's own hashing and match it.

    The bytes are read into memory only (never a temporary file), hashed, and
    dropped; only the hashes and any matches remain. Decoding is budgeted per
    worker (`service.match.decode_budget`): an image that alone would take more memory
    than `HASHBANK_MAX_DECODE_BYTES` gets 413 `image_too_large`; when the worker
    is already decoding as much as it may, the request waits up to
    `HASHBANK_DECODE_WAIT_SECONDS`, then gets 503 `busy` with Retry-After.
    """
    data = await read_image_body(request, services.settings.max_upload_bytes)
    matches, quality = await services.matcher.match_image(caller.platform_id, data)
    del data
    return ImageMatchResponse(matches=[MatchOut(**m) for m in matches], quality=quality)


@router.post("/feedback", response_model=FeedbackOut, responses=_ERRORS)
def feedback(body: FeedbackIn, caller: FeedbackCaller, services: ServicesDep) -> FeedbackOut:
    """Report what you did with a match: `pending_review`, `removed` or `not_violating`."""
    recorded = services.matches.feedback(caller.platform_id, body.match_id, body.outcome)
    return FeedbackOut(
        match_id=recorded.match_id, outcome=recorded.outcome, recorded_at=recorded.recorded_at
    )
