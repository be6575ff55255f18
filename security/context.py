"""The request being served, for audit events written deep in services (who and from where)."""
from contextvars import ContextVar

current_request: ContextVar = ContextVar("current_request", default=None)
