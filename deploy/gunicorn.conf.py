"""gunicorn's settings for the web container and tests/test_topology.py alike."""
import os

bind = os.environ.get("PORTAL_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = 120
# Requests arrive through nginx with keep-alive upstream connections.
keepalive = 30
# The portal's own JSON lines (portal/logging.py) say who asked for what; gunicorn's access log
# would repeat it in another format.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
