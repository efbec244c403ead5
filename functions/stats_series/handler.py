"""GET /stats: a scope's daily activity series (from the statistics rollup)."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import StatsSeries
from licensing_core.services import stats


@endpoint("stats_series")
def handler(request: Request[None]) -> StatsSeries:
    return stats.series(request.query, request.tenant)
