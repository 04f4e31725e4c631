"""Liveness and readiness probes for process managers and load balancers."""

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.deps import FollowerDep
from service.api.errors import error_body

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "index not loaded or not caught up"}})
def readyz(follower: FollowerDep) -> JSONResponse:
    """Ready once this worker's index is loaded and caught up with the change log.

    `worker` tells the worker processes behind one port apart (its process id)."""
    if not follower.ready:
        return JSONResponse(error_body("not_ready", "index is loading"), status_code=503)
    return JSONResponse(
        {
            "status": "ready",
            "change_seq": follower.seq,
            "hashes": len(follower.indexes),
            "worker": str(os.getpid()),
        }
    )
