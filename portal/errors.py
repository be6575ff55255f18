"""The answers when a request has none of its own: a path that resolves to nothing (JSON under
/api/, the portal's page elsewhere), and the database away (restarting, failing over, out of
connections): 503 with a Chinese message and Retry-After, the same for pages and the API, instead
of a server error.

Django calls the 500 handler inside the `except` block of the failed request, so
`sys.exc_info()` still names the cause; nothing here touches the database. The next request
finds a live connection again by itself (CONN_HEALTH_CHECKS), so the portal recovers without a
restart once the database is back."""
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found as default_page_not_found
from django.views.defaults import server_error as default_server_error
from rest_framework.exceptions import NotFound

RETRY_AFTER_S = 10
DATABASE_AWAY = (OperationalError, InterfaceError)


def database_away(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_AWAY)


def for_api(request) -> bool:
    """Whether a request is the API's: its answers are JSON, a page's are HTML."""
    return request.path.startswith("/api/")


def api_answer(detail: str, *, status: int) -> JsonResponse:
    """JSON as the API's own answers are written: Chinese as it is, not \\u escapes."""
    return JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def not_found(request, exception=None, *args, **kwargs):
    """An API client reads JSON: an unknown /api/ path (a removed route, a mistyped one) answers as
    the API's own 404s do, not with the HTML page meant for a browser."""
    if for_api(request):
        return api_answer(str(NotFound.default_detail), status=404)
    return default_page_not_found(request, exception, *args, **kwargs)


def server_error(request, *args, **kwargs):
    if not database_away(sys.exc_info()[1]):
        return default_server_error(request, *args, **kwargs)
    message = _("The database is briefly unavailable. Please try again in a moment; if you were saving, check afterwards that it was saved.")
    if for_api(request):
        response = api_answer(message, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message, "retry_after": RETRY_AFTER_S}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response
