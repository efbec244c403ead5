"""GET /problems/{slug}: the page a problem's ``type`` points at (HTML)."""

from licensing_core.http import problem_pages
from licensing_core.http.endpoint import Reply, Request, endpoint


@endpoint("problem_page")
def handler(request: Request[None]) -> Reply:
    return problem_pages.reply(request.path["slug"])
