import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from sojourn.process import settle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sojourn.settings")
application = get_wsgi_application()
# Import every view now (the API pulls in SciPy for the hypothesis tests: about a second), so that a
# worker is ready when it starts serving and the first patient's request is not the slow one.
get_resolver().url_patterns  # noqa: B018  (importing them is the point)
settle()
