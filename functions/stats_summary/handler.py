"""GET /stats/summary: a scope's licenses, machines and seats, now."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import StatsSummary
from licensing_core.services import stats


@endpoint("stats_summary")
def handler(request: Request[None]) -> StatsSummary:
    return stats.summary(request.query, request.tenant)
