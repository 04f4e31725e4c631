"""Platform routes: match hashes, match an uploaded image, report what was done with a match."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hashing.policy import MAX_QUERY_HASHES
from service.api.deps import (
    FeedbackCaller,
    MatchCaller,
    MatcherDep,
    MatchesDep,
    SettingsDep,
    VideoMatcherDep,
)
from service.api.schemas import (
    FeedbackIn,
    FeedbackOut,
    ImageMatchResponse,
    MatchOut,
    MatchRequest,
    MatchResponse,
    TimeRange,
    VideoMatchOut,
    VideoMatchRequest,
    VideoMatchResponse,
    error_responses,
)
from service.api.upload import read_image_body
from service.match.matcher import Found
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["platform"])
_ERRORS = error_responses(401, 403, 404, 413, 422)


_DEFAULTS = Settings.model_fields
_MATCH_DESCRIPTION = (
    f"Match up to {_DEFAULTS['max_match_batch'].default:,} items and "
    f"{_DEFAULTS['max_match_hashes'].default:,} hashes in all (the defaults; `GET /v1/limits` "
    f"has this server's): each item is one image's hash and up to {MAX_QUERY_HASHES - 1} "
    "variants (its other query hashes, `hashing.policy.query_hashes`).\n\n"
    "A request that searches more hashes than that (each item's hash and its variants; "
    "`HASHBANK_MAX_MATCH_HASHES`) gets 413 `too_many_hashes`, more items 413 "
    "`batch_too_large`. Every hit is recorded and gets a `match_id` to report feedback against."
)


@router.post(
    "/match", response_model=MatchResponse, responses=_ERRORS, description=_MATCH_DESCRIPTION
)
async def match_hashes(
    body: MatchRequest, caller: MatchCaller, matcher: MatcherDep
) -> JSONResponse:
    """Match a batch of items (the OpenAPI description is `_MATCH_DESCRIPTION`)."""
    results = await matcher.match_items(caller.platform_id, body.items)
    # Built as plain JSON: these few fields need no second validation pass against
    # `MatchResponse`, which still documents the shape at /docs.
    return JSONResponse(
        {
            "results": [
                {"index": i, "ref": item.ref, "matches": [_match(f) for f in results[i]]}
                for i, item in enumerate(body.items)
            ]
        }
    )


def _match(found: Found) -> dict[str, object]:
    """One match in a reply (`MatchOut`), the same in both match routes."""
    return {"match_id": found.match_id, "algorithm": found.algorithm, "distance": found.distance}


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
    request: Request, caller: MatchCaller, matcher: MatcherDep, settings: SettingsDep
) -> ImageMatchResponse:
    """Hash an image in memory with hashbank's own hashing and match it.

    The bytes are read into memory only (never a temporary file), hashed, and
    dropped; only the hashes and any matches remain. Decoding is budgeted per
    worker (`service.match.decode_budget`): an image that alone would take more memory
    than `HASHBANK_MAX_DECODE_BYTES` gets 413 `image_too_large`; when the worker
    is already decoding as much as it may, the request waits up to
    `HASHBANK_DECODE_WAIT_SECONDS`, then gets 503 `busy` with Retry-After.
    """
    data = await read_image_body(request, settings.max_upload_bytes)
    matched = await matcher.match_image(caller.platform_id, data)
    del data
    return ImageMatchResponse(
        matches=[MatchOut.model_validate(_match(f)) for f in matched.found],
        quality=matched.quality,
    )


@router.post("/match/video", response_model=VideoMatchResponse, responses=_ERRORS)
async def match_video(
    body: VideoMatchRequest, caller: MatchCaller, matcher: VideoMatcherDep
) -> VideoMatchResponse:
    """Match one video by its vPDQ frame hashes (and its MD5) against case videos and photos.

    Each matched case item (a video, or a photo one of your frames shows) is
    one match to report feedback against, with the share of your frames that
    match it, the share of the case video's frames matched, and where they
    are in both. A video matches when either share reaches
    `HASHBANK_VIDEO_MATCH_PERCENT` (80 by default), or its MD5 is the same;
    a photo when any frame shows it. At most `HASHBANK_MAX_VIDEO_FRAMES`
    frames (3,600 by default; `GET /v1/limits`), else 413 `too_many_frames`.
    """
    found = await matcher.match_video(caller.platform_id, body.frames, body.md5)
    return VideoMatchResponse(
        ref=body.ref,
        matches=[
            VideoMatchOut(
                match_id=f.match_id,
                algorithm=f.algorithm,
                distance=f.distance,
                query_percent=f.query_percent,
                stored_percent=f.stored_percent,
                query_ranges=[TimeRange(start=r.start, end=r.end) for r in f.query_ranges],
                stored_ranges=[TimeRange(start=r.start, end=r.end) for r in f.stored_ranges],
            )
            for f in found
        ],
    )


@router.post("/feedback", response_model=FeedbackOut, responses=_ERRORS)
def feedback(body: FeedbackIn, caller: FeedbackCaller, matches: MatchesDep) -> FeedbackOut:
    """Report what you did with a match: `pending_review`, `removed` or `not_violating`."""
    recorded = matches.feedback(caller.platform_id, body.match_id, body.outcome)
    return FeedbackOut(
        match_id=recorded.match_id, outcome=recorded.outcome, recorded_at=recorded.recorded_at
    )
