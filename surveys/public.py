"""The public answer pages, the only pages of the portal without a login: /s/ (type a code) and
/s/<code>/ (answer). They show one questionnaire to the holder of its code and nothing else — no
other survey, no counts. No script, nothing from elsewhere: a cheap phone on a slow link.

No CSRF token: the code in the address is what authorises the answer, which a forging site
cannot know; and a phone that refuses cookies can still answer."""
from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys import ratelimits
from surveys.services import answering
from surveys.services.answering import State
from surveys.services.flags import note_answer
from surveys.services.windows import PREFIX_LENGTH

# Refusals: a page in Chinese, and the status a client (or a test) can tell them apart by.
STATUS = {State.UNKNOWN: 404, State.NOT_YET: 403, State.CLOSED: 410, State.SPENT: 409}


def _too_many(request):
    return render(request, "surveys/public_refused.html", {"state": "limited"}, status=429)


@never_cache
@require_http_methods(["GET"])
def start(request):
    if ratelimits.page_limited(request):
        return _too_many(request)
    raw = request.GET.get("code", "")
    code = answering.normalise(raw)
    if code:
        return redirect("surveys_public:answer", code=code)
    return render(request, "surveys/public_start.html", {"typed": raw[:20], "bad": bool(raw)})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, code: str):
    if ratelimits.page_limited(request):
        return _too_many(request)
    prefix = (answering.normalise(code) or code.upper())[:PREFIX_LENGTH]
    if ratelimits.guessing_limited(request, prefix):
        return _too_many(request)
    answer_code = answering.find(code)
    if answer_code is None:
        ratelimits.count_miss(request, prefix)
    state = answering.state_of(answer_code)
    if state != State.OPEN:
        return render(request, "surveys/public_refused.html", {"state": state}, status=STATUS[state])
    questionnaire = answer_code.window.questionnaire
    chosen, missing = {}, []
    if request.method == "POST":
        now = timezone.now()
        outcome = answering.submit(answer_code=answer_code, data=request.POST, now=now)
        if outcome.state == State.ANSWERED:
            note_answer(window_id=answer_code.window_id, school_id=answer_code.school_id, address=ratelimits.address(request), now=now)
            return redirect("surveys_public:thanks")
        if outcome.state != State.INCOMPLETE:
            return render(request, "surveys/public_refused.html", {"state": outcome.state}, status=STATUS[outcome.state])
        chosen, missing = {k: v for k, v in request.POST.items() if k.startswith("q")}, outcome.missing
    items = [{"item": i, "name": f"q{i.number}", "value": chosen.get(f"q{i.number}", ""), "missing": i.number in missing}
             for i in questionnaire.items.all()]
    return render(request, "surveys/public_answer.html", {
        "questionnaire": questionnaire, "school": answer_code.school, "items": items, "missing": missing, "code": answer_code.code,
    }, status=400 if missing else 200)


@never_cache
def thanks(request):
    return render(request, "surveys/public_thanks.html")
