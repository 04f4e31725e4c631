"""Survivor routes: create a case, read its status, add hashes, withdraw. No account needed."""

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, status

from service.api.deps import CaseKey, CasesDep, ClientAddress, KeyThrottleDep, SettingsDep
from service.api.schemas import CaseStatusOut, HashList, NewCaseOut, error_responses
from service.api.throttle import FailureThrottle
from service.failures import Throttled, Unauthorized
from service.match.validation import parse_hashes
from service.store.cases import CaseStatus

T = TypeVar("T")
router = APIRouter(prefix="/v1/cases", tags=["survivor"])
_ERRORS = error_responses(401, 409, 413, 422, 429)


def _out(s: CaseStatus) -> CaseStatusOut:
    return CaseStatusOut.model_validate(s, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NewCaseOut, responses=_ERRORS)
def create_case(body: HashList, cases: CasesDep, settings: SettingsDep) -> NewCaseOut:
    """Create a case from up to 100 hashes computed on the survivor's device.

    The reply carries the `case_key` **once**; it is stored only as a hash and
    cannot be recovered.
    """
    inputs = parse_hashes(body.hashes, settings.max_hashes_per_case, settings.max_video_frames)
    created = cases.create(inputs)
    return NewCaseOut(
        case_id=created.case_id, case_key=created.case_key, status=_out(created.status)
    )


@router.get("/{case_id}", response_model=CaseStatusOut, responses=_ERRORS)
def case_status(
    case_id: str, key: CaseKey, cases: CasesDep, throttle: KeyThrottleDep, client: ClientAddress
) -> CaseStatusOut:
    """The case's hashes, how many times platforms matched them, and what they did."""
    return _out(_with_key(throttle, case_id, client, lambda: cases.status(case_id, key)))


@router.post("/{case_id}/hashes", response_model=CaseStatusOut, responses=_ERRORS)
def add_hashes(
    case_id: str,
    body: HashList,
    key: CaseKey,
    cases: CasesDep,
    settings: SettingsDep,
    throttle: KeyThrottleDep,
    client: ClientAddress,
) -> CaseStatusOut:
    """Add more hashes to an active case (up to 100 per request)."""
    inputs = parse_hashes(body.hashes, settings.max_hashes_per_case, settings.max_video_frames)
    return _out(_with_key(throttle, case_id, client, lambda: cases.add(case_id, key, inputs)))


@router.delete("/{case_id}", response_model=CaseStatusOut, responses=_ERRORS)
def withdraw_case(
    case_id: str, key: CaseKey, cases: CasesDep, throttle: KeyThrottleDep, client: ClientAddress
) -> CaseStatusOut:
    """Withdraw the case: its hashes stop matching at once and partners are told to delete them."""
    return _out(_with_key(throttle, case_id, client, lambda: cases.withdraw(case_id, key)))


def _with_key(throttle: FailureThrottle, case_id: str, client: str, action: Callable[[], T]) -> T:
    """Run a keyed action; a wrong key is counted per case and per client (`throttle`).

    The key is always checked first: the right key works whatever others sent.
    """
    try:
        return action()
    except Unauthorized:
        wait = throttle.fail(f"case:{case_id}", f"client:{client}")
        if wait is not None:
            raise Throttled(retry_after=wait) from None
        raise
