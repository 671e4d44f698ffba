"""A test-only page holding one metrics chart, so the browser tests draw the real template and script
(the portal's pages that will hold charts come later). Mounted by a test URLconf around the project's."""

from django.http import HttpResponse
from django.template import Context, Template
from django.urls import include, path

PAGE = Template(
    """<!doctype html><html><head><meta charset="utf-8"><title>chart</title>
{% include "monitoring/chart_scripts.html" %}</head>
<body>{% include "monitoring/chart.html" with url=url series=series label="CPU and network" %}
</body></html>"""
)


def chart_page(request, instance_id):
    url = f"/api/v1/metrics/instances/{instance_id}/?window=hour"
    series = "cpu_millicores,net_rx_bytes_per_s"
    return HttpResponse(PAGE.render(Context({"url": url, "series": series})))


urlpatterns = [
    path("test-chart/<uuid:instance_id>/", chart_page),
    path("", include("cloudmgr.urls")),
]


# frappe-charts first draws an empty frame (axis 0 to 5), then the data; settled, the axis reaches
# past the data's largest value and nothing moves.
SETTLED = """(least) => {
  const figure = document.querySelector("figure.metrics-chart");
  if (figure.dataset.state !== "drawn") return figure.dataset.state !== "loading";
  const labels = [...figure.querySelectorAll(".y.axis text")]
    .map(t => parseFloat(t.textContent.replace(/,/g, "")));
  return Math.max(...labels) >= least && !figure.querySelector("animate, animateTransform");
}"""


def drawn_chart(page, instance_id, least=1):
    """Open the chart of an instance and wait until it has settled (or failed); the figure element.

    `least`: a value the drawn data reaches, so the axis is known to be the data's.
    """
    page.goto(f"/test-chart/{instance_id}/")
    page.wait_for_function(SETTLED, arg=least)
    return page.locator("figure.metrics-chart")
