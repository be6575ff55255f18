from django.conf import settings
from django.utils import translation


class PortalLocaleMiddleware:
    """Chinese unless the user chose otherwise (the language switch sets a cookie).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a government
    portal speaks Chinese to an English-configured browser too.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.available:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class PermissionsPolicyMiddleware:
    """Switch off the browser features the portal never uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
