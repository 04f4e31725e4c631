"""The partner delta feed: every change to the hash list, in order, from a cursor."""

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import ExchangeDep, SettingsDep, SyncCaller
from service.api.exchange_schemas import ChangeOut, ChangesPage
from service.api.schemas import error_responses

router = APIRouter(prefix="/v1/hashes", tags=["partner exchange"])
_ERRORS = error_responses(401, 403, 422)


@router.get("/changes", response_model=ChangesPage, responses=_ERRORS)
def changes(
    caller: SyncCaller,
    exchange: ExchangeDep,
    settings: SettingsDep,
    cursor: Annotated[
        str,
        Query(
            # 18 digits stay below 2**63, the largest sequence number the database holds.
            max_length=18,
            pattern=r"^[0-9]+$",
            description="`next_cursor` of the last page you applied; `0` for the whole list",
        ),
    ] = "0",
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=1000,
            description="At most this many changes; a server whose largest page "
            "(`feed_page` of GET /v1/limits) is smaller serves that many",
        ),
    ] = 500,
) -> ChangesPage:
    """Hash additions, withdrawals, disputes and reinstatements after `cursor`, oldest first.

    Apply each change in order (`add`: the hash is matchable; `remove`: delete
    it), then store `next_cursor`; continue while `has_more`. A feed read to its
    end and resumed later never misses or repeats a change.

    Videos: a video's vPDQ frames and its MD5 carry `item` (the video's opaque
    reference), `item_action` and, for frames, `timestamp`. When a video is
    submitted all its entries arrive with `item_action` `add`; when it is withdrawn
    or a dispute suspends it, all of them again with `remove` (and come back on a
    reinstatement). Those entries are never split between pages (a page may hold
    more than `limit` entries to keep a long video whole). A new hash's entry
    without `item` comes first: the video's entries follow it.
    """
    entries, more = exchange.changes(int(cursor), min(limit, settings.exchange_page_max))
    return ChangesPage(
        changes=[
            ChangeOut(
                seq=e.seq,
                algorithm=e.algorithm,
                hash=e.hash,
                action="add" if e.action == "add" else "remove",
                state=e.state,
                changed_at=e.changed_at,
                quality=e.quality,
                item=e.item,
                timestamp=e.timestamp,
                item_action="add" if e.item_action == "add" else "remove" if e.item else None,
                variant=e.variant,
            )
            for e in entries
        ],
        next_cursor=str(entries[-1].seq) if entries else cursor,
        has_more=more,
    )
