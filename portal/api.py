from django.http import Http404
from rest_framework.exceptions import NotFound
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    # Django's 404 text names the model in English; the API answers with DRF's translated
    # "not found", the same for a missing object and one outside the user's area.
    if isinstance(exc, Http404):
        exc = NotFound()
    return drf_exception_handler(exc, context)
