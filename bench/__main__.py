"""`python -m bench [--scale city|shandong|national] [--only GROUP]… [--json PATH]`.

Sets Django up itself, under --settings or DJANGO_SETTINGS_MODULE or else manage.py's default, so
the bench needs no entry in the portal's settings: it is an installed app only while it runs (and
in bench/settings.py, which the bench's own web server uses).
"""
import os
import sys


def main(argv: list[str]) -> None:
    from django.core.management.base import CommandParser, handle_default_options

    # --settings and --pythonpath must take effect before setup, as manage.py reads them first.
    early = CommandParser(add_help=False, allow_abbrev=False)
    early.add_argument("--settings")
    early.add_argument("--pythonpath")
    handle_default_options(early.parse_known_args(argv)[0])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    import django
    from django.conf import settings

    if "bench" not in settings.INSTALLED_APPS:
        # Before setup: the app registry reads INSTALLED_APPS once.
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]
    django.setup()
    from bench.management.commands.bench import Command

    # As manage.py runs a command: argument errors and CommandError end with a message and exit 1.
    Command().run_from_argv(["python -m", "bench", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
