"""``nbtrack ui`` in headless Chromium, as a reviewer uses it: open the link, filter, sort, page,
plot, select two runs and compare them, without a notebook; and the page refuses a visit without
the token. The store is PostgreSQL, reached with a password in its URI: the page and the terminal
show it redacted. Nothing on the page can change a run.
"""

from __future__ import annotations

import functools
import uuid

import pytest
from nbtrack_browser_conftest import wait_until as browser_wait_until  # tests/browser/conftest.py, loaded by ours
from sqlalchemy import create_engine, text
from uiserver import EVIL, screenshot, start_ui, write_runs

wait_until = functools.partial(browser_wait_until, timeout=60.0)  # a page of a server just started is slower

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PASSWORD = "s3cret-" + uuid.uuid4().hex[:8]
TIMEOUT_MS = 120_000


@pytest.fixture
def team_store(postgres_uri):
    """A PostgreSQL database with 30 runs; its URI carries a password (the test server trusts loopback)."""
    uri = postgres_uri.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    return uri, write_runs(uri, 30)


ROWS = ".nbtrack-runtable .nbtrack-row:visible"  # the interactive table (anywidget), not a static copy


def column_texts(page, column: str) -> list[str]:
    return page.locator(f'{ROWS} [data-column="{column}"]').all_inner_texts()


def page_counter(page) -> str:
    """The pager as a reader sees it: 'page 1 of 2 · 30 runs' (the page number is an input)."""
    pager = page.locator(".nbtrack-runtable .nbtrack-pager")
    text = f"page {pager.locator('.nbtrack-page-input').input_value()} {pager.locator('.nbtrack-page').inner_text()}"
    return " ".join(text.split())


def test_a_reviewer_filters_plots_and_compares_in_the_browser(browser_page, team_store):
    uri, _ids = team_store
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with start_ui(uri) as server:
        assert PASSWORD not in server.output() and "postgres:***@" in server.output()

        # without the token: the login form, no dashboard, no kernel
        response = page.goto(f"{server.base}/")
        assert "/login" in page.url and response.request.redirected_from is not None
        assert page.locator(".nbtrack-dashboard").count() == 0
        page.goto(f"{server.base}/?token=not-{server.token}")
        assert "/login" in page.url

        page.goto(server.url, timeout=TIMEOUT_MS)
        rows = page.locator(ROWS)
        rows.first.wait_for(state="visible", timeout=TIMEOUT_MS)
        header = page.locator(".nbtrack-ui-header")
        assert "***" in header.inner_text() and PASSWORD not in page.content()
        wait_until(lambda: rows.count() == 25, what="a first page of 25 rows")
        # the real table drew itself: the static copy kept for frontends without anywidget is gone
        assert page.locator(".nbtrack-static-fallback:visible, .nbtrack-static-note:visible").count() == 0
        assert "page 1 of 2 · 30 runs" in page_counter(page)

        # the run named like an XSS payload is text; then the next page, then a filter
        assert EVIL in column_texts(page, "name")
        assert page.locator('img[src="x"]').count() == 0 and dialogs == []
        page.locator(".nbtrack-next").click()
        wait_until(lambda: column_texts(page, "name") == [f"run-{i:02d}" for i in (4, 3, 2, 1, 0)],
                   what="the second page: the 5 oldest runs")
        box = page.locator(".nbtrack-filter input")
        box.fill("params.model = 'rf' and params.lr = 0.1")
        box.press("Enter")
        chosen = {f"run-{i:02d}" for i in (0, 6, 12, 18, 24)}
        wait_until(lambda: set(column_texts(page, "name")) == chosen, what="the 5 runs with model rf and lr 0.1")
        assert "page 1 of 1 · 5 runs" in page_counter(page)

        # sort by a metric from its header: best first
        page.locator("button.nbtrack-col-metrics-acc").click()
        wait_until(lambda: column_texts(page, "name")[:1] == ["run-24"], what="run-24 first by acc")
        plot = page.locator(".nbtrack-plot .js-plotly-plot")
        plot.first.wait_for(state="visible", timeout=TIMEOUT_MS)

        # select the two best runs: their curves, then compared side by side
        for index in range(2):
            rows.nth(index).locator(".nbtrack-select input").check()
        wait_until(lambda: "2 selected" in page.locator(".nbtrack-selection").inner_text(), what="2 selected")
        wait_until(lambda: len(plot.locator(".legend .legendtext").all_text_contents()) == 2, what="two curves")
        page.locator(".lm-TabBar-tab", has_text="Compare").first.click()
        compare = page.locator(".nbtrack-compare-html")
        wait_until(lambda: "run-24" in compare.inner_text() and "run-18" in compare.inner_text(),
                   what="both runs compared")
        assert compare.locator('tr[data-key="metrics.acc"]').count() == 1
        page.set_viewport_size({"width": 1400, "height": 1400})
        screenshot(page, "ui")

        # a run's detail: shown, with no action that could change it
        rows.first.locator(".nbtrack-open").click()
        detail = page.locator(".nbtrack-detail-html")
        wait_until(lambda: "run-24" in detail.inner_text(), what="the detail of run-24")
        assert page.locator(".nbtrack-actions, .nbtrack-rename, .nbtrack-delete, .nbtrack-tag, "
                            ".nbtrack-note, .nbtrack-restore, .nbtrack-checkout").count() == 0
        assert page.locator('img[src="x"]').count() == 0 and dialogs == []  # the payload stayed text throughout
    with create_engine(uri).connect() as connection:  # the store is as it was written
        assert connection.execute(text("SELECT count(*) FROM runs WHERE name = 'run-24'")).scalar() == 1
