from django.utils.functional import SimpleLazyObject

from .jurisdiction import resolve_jurisdiction


class JurisdictionMiddleware:
    """Resolve the user's jurisdiction once per request (lazily: static and login pages never pay)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.jurisdiction = SimpleLazyObject(lambda: resolve_jurisdiction(request.user))
        return self.get_response(request)
