from django.urls import path

from . import public

app_name = "surveys_public"
urlpatterns = [
    path("", public.start, name="start"),
    path("done/", public.thanks, name="thanks"),
    path("<str:code>/", public.answer, name="answer"),
]
