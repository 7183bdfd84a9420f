from django.conf import settings

from core.queue import queue_on_commit

from .tasks import warm_figures


class FiguresWarmingMiddleware:
    """After a successful write request, asks the worker to compute the pages' default figures
    for the data's new version (reporting.tasks.warm_figures), where the web processes share
    the cache (settings.FIGURES_WARM). With a worker the request does not wait for it, and a
    broker down never fails it (core.queue)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.FIGURES_WARM
            and request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
            and response.status_code < 400
        ):
            queue_on_commit(warm_figures)
        return response
