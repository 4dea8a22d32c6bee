"""Structured logs: one line per request and one per Celery task, with a request id, the user and
the duration. JSON in production (LOG_FORMAT=json, the default when DEBUG is off), plain text in
development."""

import logging
import time
import uuid

request_logger = logging.getLogger("accountability.request")
task_logger = logging.getLogger("accountability.task")

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


class RequestLogMiddleware:
    """Logs each request once, after the response: method, path, status, duration, user and a request
    id (the proxy's X-Request-ID when it sends a sane one, else a new one), echoed in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        response = self.get_response(request)
        user = getattr(request, "user", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request.request_id,
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        response["X-Request-ID"] = request.request_id
        return response


_task_started: dict[str, float] = {}


def task_prerun(task_id=None, task=None, **kwargs):
    _task_started[task_id] = time.perf_counter()


def task_postrun(task_id=None, task=None, state=None, **kwargs):
    started = _task_started.pop(task_id, None)
    task_logger.info(
        "task %s %s",
        getattr(task, "name", "?"),
        state,
        extra={
            "task_id": task_id,
            "task": getattr(task, "name", None),
            "state": state,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        },
    )
