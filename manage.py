#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")
    # manage.py is the developer's tool: without DEBUG set it runs in development mode, so
    # `python manage.py shell` works in a fresh checkout. The served app (wsgi.py, gunicorn)
    # has no such default, and docker-compose sets DEBUG=0 for every process, manage.py included.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
