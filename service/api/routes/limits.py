"""`GET /v1/limits`: what one request to this server may carry, so clients split by it.

The limits are the operator's settings (`service.settings.Settings`) and the
fixed ones of the match policy and the JSON body. They are no secret, so the
route needs no credentials; the clients (`hashing.transport.Transport.limits`)
ask once per client and fall back to `hashing.limits.DEFAULT_LIMITS` on a
server older than this route.
"""

from fastapi import APIRouter

from hashing.policy import MAX_QUERY_HASHES
from service.api.body_limits import JSON_BODY_LIMIT
from service.api.deps import SettingsDep
from service.api.schemas import LimitsOut

router = APIRouter(prefix="/v1", tags=["limits"])


@router.get("/limits", response_model=LimitsOut)
async def limits(settings: SettingsDep) -> LimitsOut:
    """This server's limits per request. Needs no credentials."""
    return LimitsOut(
        case_hashes=settings.max_hashes_per_case,
        match_items=settings.max_match_batch,
        match_hashes=settings.max_match_hashes,
        match_item_hashes=MAX_QUERY_HASHES,
        feed_page=settings.exchange_page_max,
        json_body_bytes=JSON_BODY_LIMIT,
        image_bytes=settings.max_upload_bytes,
        image_pixels=settings.max_image_pixels,
        video_frames=settings.max_video_frames,
    )
