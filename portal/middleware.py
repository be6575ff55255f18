from django.conf import settings
from django.utils import translation

from .errors import api_answer, for_api


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


class BadParameterMiddleware:
    """A parameter that `core.params` could not read is the client's mistake: a 400 with the
    message (JSON under /api/, a page elsewhere), never a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # A NUL character is no text anyone types, and PostgreSQL refuses to store one: refused
        # here for every page at once (the API's serializers refuse it field by field).
        if for_api(request):
            return None
        for values in (request.GET, request.POST if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") else {}):
            for key in values:
                if "\x00" in key or any("\x00" in v for v in values.getlist(key)):
                    from core.params import BadParameter

                    return self.process_exception(request, BadParameter(_nul_message(key)))
        return None

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from core.params import BadParameter

        if not isinstance(exception, BadParameter):
            return None
        if for_api(request):
            return api_answer(exception.message, status=400)
        return render(request, "portal/bad_request.html", {"message": exception.message}, status=400)


class NoStoreMiddleware:
    """Pages, exports and API answers carry the user's area's data: no browser or proxy may keep
    them (`Cache-Control: no-store`, via Django's never-cache headers). Static files are not
    answered here (WhiteNoise or the static view come first, with their own caching); a view
    that sets Cache-Control itself keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils.cache import add_never_cache_headers

        response = self.get_response(request)
        static = settings.STATIC_URL or "/static/"
        if not request.path.startswith(static) and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


def _nul_message(name: str) -> str:
    from django.utils.translation import gettext as _

    return _("The parameter “%(name)s” has a value this page cannot use.") % {"name": name.replace("\x00", "")}


class PermissionsPolicyMiddleware:
    """Switch off the browser features the portal never uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
