"""The HTML report: one self-contained file (inline CSS and SVG, nothing loaded from the network), rendered from
the Jinja2 templates in report/templates/ (shared with the dashboard through `report.templating.environment`)."""

from shadowfleet.report.headline import Summary, headline, summarise
from shadowfleet.report.html import report_context, report_html, write_report

__all__ = ["Summary", "headline", "report_context", "report_html", "summarise", "write_report"]
