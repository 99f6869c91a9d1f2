"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from core import runtime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
runtime.settle()  # the garbage collector of a long-running process (core/runtime.py)
