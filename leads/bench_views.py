"""The *ceiling page* of `manage.py bench_load` (issue 16): what one page costs on this stack when it
does nothing but the essentials, to measure every real page against.

Behind the same middleware as every page (sessions, the login, CSRF, time zone, security headers,
the request log), it runs two queries on the leads table (the signed-in person's 50 newest leads
and their count) and renders 50 rows, without the navigation bar and context processors. Mounted
only when settings.BENCH_PAGES is on (BENCH_PAGES=1, which bench_load sets on the gunicorn it
starts): it is not a page of the product. Beside it, `shell` is the product's own page shell with no
content (navigation, bell, expectations banner, footer, their queries): bench_load's reference line
for what every page pays before its content.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.views.decorators.http import require_GET

from leads.models import Lead

CEILING_ROWS = 50


@login_required
@require_GET
def ceiling(request):
    mine = Lead.objects.filter(owner=request.user)
    leads = list(mine.order_by("-arrived_at", "-id")[:CEILING_ROWS])
    count = mine.count()
    html = get_template("leads/bench_ceiling.html").render({"leads": leads, "count": count})
    return HttpResponse(html)


@login_required
@require_GET
def shell(request):
    """The product's page shell alone (navigation, bell, banner, footer): what every page pays before its content."""
    return render(request, "leads/bench_shell.html")
