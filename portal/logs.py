"""Logs as JSON lines on stdout (PORTAL_LOG_FORMAT=json, as the production stack sets it): one
object per line with the time, level, logger and message, and — for anything logged while a
request is served — its id (nginx's X-Request-ID, else a new one), the user and the user's area.
Plain text otherwise (development, tests)."""
from __future__ import annotations

import json
import logging
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

_request: ContextVar[dict | None] = ContextVar("portal_log_request", default=None)
access_log = logging.getLogger("portal.access")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _request.get() or {}
        record.request_id = context.get("request_id", "")
        request = context.get("request")
        user = getattr(request, "user", None) if request is not None else None
        if user is not None and getattr(user, "is_authenticated", False):
            record.user, record.area = user.get_username(), getattr(user, "unit_id", None) or ""
        else:
            record.user, record.area = "", ""
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "user": getattr(record, "user", ""),
            "area": getattr(record, "area", ""),
        }
        line.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _request_id(header: str) -> str:
    # nginx's $request_id is 32 hex digits; anything else a client sent is not trusted as an id.
    value = header.strip().lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else uuid.uuid4().hex


class RequestLogMiddleware:
    """One access line per request (static files are answered before it, by WhiteNoise), and the
    request's id on every line logged meanwhile and on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = _request_id(request.META.get("HTTP_X_REQUEST_ID", ""))
        token = _request.set({"request_id": request.id, "request": request})
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response.headers.setdefault("X-Request-ID", request.id)
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            })
            return response
        finally:
            _request.reset(token)
