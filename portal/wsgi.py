import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_wsgi_application()

# gunicorn loads this module in each worker as it starts (the app is not preloaded): the worker's
# first requests should not pay for its imports.
from portal.warmup import warm_web_worker  # noqa: E402 - after Django is set up

warm_web_worker()
