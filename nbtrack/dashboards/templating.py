"""Jinja2 templates for the dashboard's HTML (package data in ``templates/``), autoescaping on.

Every ``{{ value }}`` is escaped as :func:`nbtrack.dashboards.table.esc` does (quotes too);
only fragments that nbtrack built itself (``Markup``) pass through unchanged.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from markupsafe import Markup


def _escape(value: Any) -> Any:
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


@lru_cache(maxsize=1)
def environment() -> Any:
    """The one template environment (built on first use: jinja2 loads only with the HTML views)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("nbtrack.dashboards", "templates"),
        autoescape=True, finalize=_escape, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return str(environment().get_template(template).render(**context))


def macro(template: str, name: str, *args: Any, **kwargs: Any) -> Markup:
    """Call the macro ``name`` of ``templates/<template>``; the result is trusted HTML."""
    return Markup(getattr(environment().get_template(template).module, name)(*args, **kwargs))


def trusted(fragment: str) -> Markup:
    """Mark HTML that nbtrack built itself (a figure div, a table already escaped) as safe."""
    return Markup(fragment)
