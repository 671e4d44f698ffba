"""Plain Django views of the controller itself (not the API): the health check."""

from django.db import Error, connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """200 when this controller can reach its database, 503 otherwise; no authentication.

    For load balancers and `make run`: a controller that cannot reach PostgreSQL
    can serve nothing useful.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
