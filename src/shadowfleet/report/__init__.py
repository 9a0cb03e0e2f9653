"""The HTML report: one self-contained file (inline CSS and SVG, nothing loaded from the network)."""

from shadowfleet.report.html import Summary, headline, report_html, summarise, write_report

__all__ = ["Summary", "headline", "report_html", "summarise", "write_report"]
