"""`GET /metrics`: the Prometheus scrape, for API keys with the `metrics` scope.

Behind an API key rather than on a separate local port: every worker and
replica answers on the port it already serves, Prometheus sends the key as a
bearer token (`authorization: {credentials: ...}` in its scrape config), and
the operator issues and revokes it like any other key (`hashbank-admin key
issue Monitoring -s metrics`). Without a key: 401; a key without the scope: 403.
"""

from fastapi import APIRouter, Response
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import FollowerDep, MetricsCaller, MetricsDep
from service.telemetry.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


# Not in the OpenAPI document: it is the operator's, not a partner's interface.
@router.get("/metrics", include_in_schema=False)
def metrics(_: MetricsCaller, follower: FollowerDep, meter: MetricsDep) -> Response:
    """This run's metrics in Prometheus's text format (a sync route: it reads files and the
    database in the thread pool)."""
    try:
        head: int | None = follower.log_head()
    except SQLAlchemyError:
        head = None  # the database is away: the scrape still answers, the lag shows it
    return Response(meter.render(head), media_type=CONTENT_TYPE)
