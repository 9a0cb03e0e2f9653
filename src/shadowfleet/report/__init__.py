"""The HTML report: one self-contained file (inline CSS and SVG, nothing loaded from the network)."""

from shadowfleet.report.html import report_html, write_report

__all__ = ["report_html", "write_report"]
