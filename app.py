"""The WSGI entry point: ``gunicorn -w 2 'app:app'`` (settings from the environment, see docs/service.md)."""

from grader.web import create_app

app = create_app()
