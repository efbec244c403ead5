"""POST /usage: count metered usage against the tier's quota."""

from licensing_core.http.endpoint import Request, endpoint
from licensing_core.schemas import UsageReport, UsageResult
from licensing_core.services import usage


@endpoint("report_usage")
def handler(request: Request[UsageReport]) -> UsageResult:
    return usage.report(request.body)
