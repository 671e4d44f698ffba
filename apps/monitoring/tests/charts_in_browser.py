"""Waiting in Chromium until a page's charts are drawn (monitoring/metrics-chart.js), for browser tests."""

from django.urls import reverse

# frappe-charts first draws an empty frame (its axis 0 to 5), then the data; settled, each axis reaches
# at least the value the test knows its data reaches, and nothing moves.
_SETTLED = """(least) => {
  const figures = [...document.querySelectorAll("figure.metrics-chart")];
  if (!figures.length || figures.some(f => f.dataset.state === "loading")) return false;
  return figures.every(f => {
    if (f.dataset.state !== "drawn") return true;
    if (f.querySelector("animate, animateTransform")) return false;
    if (!f.querySelector("path.line-graph-path")) return false;
    const axis = [...f.querySelectorAll(".y.axis text")];
    const labels = axis.map(t => parseFloat(t.textContent.replace(/,/g, "")));
    return Math.max(0, ...labels) >= (least[f.id] || 0);
  });
}"""


def settled_charts(page, least=None):
    """Wait until every chart of the page is drawn (or said empty); {chart id: its data-state}.

    `least`: {chart id: a value its data reaches}, so its axis is known to be the data's.
    """
    page.wait_for_function(_SETTLED, arg=least or {})
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('figure.metrics-chart')]"
        ".map(f => [f.id, f.dataset.state]))"
    )


def instance_url(instance_id, project_id, window=None):
    url = reverse("compute:instance-detail", args=[project_id, instance_id])
    return f"{url}?window={window}" if window else url
