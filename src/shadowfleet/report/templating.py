"""The Jinja2 templates of the HTML outputs (report/templates/), with autoescaping on: every value from the data
is text wherever it lands, so a ship named ``<script>`` stays a name. The dashboard loads the same environment to
share the page frame and the table, map and timeline macros."""

from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one template environment: package templates, autoescaping for every template, an undefined name is an
    error (a typo must not render as an empty cell)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shadowfleet.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
