"""What a web worker would otherwise do on its first requests, done as it starts (portal/wsgi.py).

A fresh gunicorn worker imports the URLconf (every view module) on its first request, and Celery's
publishing machinery (the tasks modules, the app's finalizing, the result backend, kombu's Redis
transport, the producer pool) on the first request that queues a task: measured 256 ms and 96–160
ms, paid by whoever comes first — after a deploy, or by the first submits of a deadline's burst on
each worker. Imports only: no connection is opened here, so a broker or database that is down does
not stop a worker from starting (the request that needs them says so, as before)."""
from __future__ import annotations


def warm_web_worker() -> None:
    from celery import current_app
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property imports every view module
    current_app.loader.import_default_modules()  # the tasks modules, as a worker autodiscovers them
    current_app.finalize(auto=True)  # binds every task to the app
    if not current_app.conf.task_always_eager:
        current_app.backend  # noqa: B018 - the result backend's class (found through entry points)
        current_app.producer_pool  # noqa: B018 - kombu's transport and the pool, not yet connected
