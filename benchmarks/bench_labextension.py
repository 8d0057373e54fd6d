"""Run All in a real browser: from the "Run All Cells" click to the last badge on screen.

A notebook of ``%load_ext nbtrack`` and 5 ``%%track`` cells is opened in JupyterLab and in
Notebook 7 (headless Chromium, a local server from tests/browser/conftest.py), each time
under a new name, so on a new kernel. "Run All Cells" is clicked in the menu (cold: the
kernel has not run anything), then again (warm). A requestAnimationFrame loop in the page
notes when the last cell's prompt shows its number and when every tracked cell shows a
badge of its new run (FINISHED, current). The floor is the same notebook without the
``%%track`` lines (the last prompt). Medians over the repetitions, with the load.

    python benchmarks/bench_labextension.py [--reps 3] [--frontends lab,notebook7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from conftest import (  # noqa: E402 - the browser tests' server and helpers
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    start_lab_server,
    wait_for_kernel_idle,
    write_notebook,
)

N_TRACKED = 5
BODY = "x{i} = sum(range(100_000))"

# Arms the page: notes the time of the "Run All Cells" menu click, then on every frame checks
# the last prompt and the badges of the tracked cells (inside their shadow roots).
WATCH_JS = """([tracked, oldIds]) => {
  const cells = () => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell');
  const prompt = cell => (cell.querySelector('.jp-InputArea-prompt')?.textContent || '').trim();
  const all = cells();
  const lastBefore = prompt(all[all.length - 1]);
  const old = new Set(oldIds);
  const w = window.__nbtrackBench = {t0: null, prompt: null, badges: null, ids: []};
  const onRelease = event => {  // Lumino runs a menu item's command on pointer release
    const item = event.target.closest && event.target.closest('.lm-Menu-item');
    if (w.t0 === null && item && item.textContent.trim().startsWith('Run All Cells')) {
      w.t0 = performance.now();
    }
  };
  document.addEventListener('pointerup', onRelease, true);
  document.addEventListener('mouseup', onRelease, true);
  const badgeOf = cell => {
    const host = cell.querySelector(':scope > .nbtrack-badge-row');
    return host && host.shadowRoot ? host.shadowRoot.querySelector('.nbtrack-badge') : null;
  };
  const tick = () => {
    if (w.t0 !== null) {
      const now = performance.now(), list = cells();
      const last = prompt(list[list.length - 1]);
      if (w.prompt === null && /\\[\\d+\\]/.test(last) && last !== lastBefore) { w.prompt = now; }
      if (tracked.length === 0) { w.badges = w.prompt; }
      else if (w.badges === null) {
        const badges = tracked.map(i => badgeOf(list[i]));
        const fresh = badges.every(b => b && b.dataset.state === 'current'
          && !old.has(b.dataset.runId) && (b.textContent || '').includes('FINISHED'));
        if (fresh) { w.badges = now; w.ids = badges.map(b => b.dataset.runId); }
      }
    }
    if (w.badges === null || w.prompt === null) { requestAnimationFrame(tick); }
  };
  requestAnimationFrame(tick);
}"""


def notebook(tracked: bool) -> list[str]:
    magic = "%%track experiment=bench\n" if tracked else ""
    return ["%load_ext nbtrack"] + [magic + BODY.format(i=i) for i in range(N_TRACKED)]


def run_all(page, tracked: list[int], old_ids: list[str]) -> tuple[float, float, list[str]]:
    """Click Run All; (seconds to the last prompt, seconds to the last badge, badge run ids)."""
    page.evaluate(WATCH_JS, [tracked, old_ids])
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        w = page.evaluate("window.__nbtrackBench")
        if w["t0"] is not None and w["prompt"] is not None and w["badges"] is not None:
            return (w["prompt"] - w["t0"]) / 1000, (w["badges"] - w["t0"]) / 1000, w["ids"]
        time.sleep(0.05)
    raise RuntimeError(f"Run All did not finish: {page.evaluate('window.__nbtrackBench')}")


def shut_down(server, name: str) -> None:
    with urllib.request.urlopen(f"{server.url}/api/sessions", timeout=10) as response:
        sessions = json.loads(response.read())
    for session in sessions:
        if session.get("path", "").endswith(name):
            request = urllib.request.Request(f"{server.url}/api/sessions/{session['id']}",
                                             method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()


def runs_seconds(server, run_ids: list[str]) -> float:
    """The tracked runs' own durations, summed (the kernel's share of the wait)."""
    import nbtrack

    nbtrack.set_store(server.store_uri)
    return sum(nbtrack.get_run(run_id).duration or 0.0 for run_id in run_ids)


def one_notebook(browser, server, frontend: str, tracked: bool) -> dict[str, tuple[float, ...]]:
    """Open a new notebook (a new kernel), Run All twice: {"cold": ..., "warm": ...}, each
    (to the last prompt, to the last badge, the runs' summed durations)."""
    name = f"bench-{frontend}-{'tracked' if tracked else 'floor'}-{uuid.uuid4().hex[:8]}.ipynb"
    write_notebook(server.root, name, notebook(tracked))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        url = (f"{server.url}/lab/workspaces/b-{uuid.uuid4().hex[:8]}/tree/{name}"
               if frontend == "lab" else f"{server.url}/notebooks/{name}")
        page.goto(url)
        page.locator(".jp-NotebookPanel .jp-Cell").nth(N_TRACKED).wait_for(timeout=120_000)
        wait_for_kernel_idle(server, name, timeout=120)
        time.sleep(1.0)  # let the page settle after the kernel is up
        indices = list(range(1, N_TRACKED + 1)) if tracked else []
        cold = run_all(page, indices, [])
        warm = run_all(page, indices, cold[2])
        return {phase: (*times[:2], runs_seconds(server, times[2]))
                for phase, times in (("cold", cold), ("warm", warm))}
    finally:
        context.close()
        shut_down(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--frontends", default="lab,notebook7")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load before: {os.getloadavg()}")
    results: dict[tuple[str, bool, str], list[tuple[float, ...]]] = {}
    with start_lab_server() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for rep in range(args.reps):
                for frontend in args.frontends.split(","):
                    for tracked in (True, False):
                        for phase, times in one_notebook(browser, server, frontend, tracked).items():
                            results.setdefault((frontend, tracked, phase), []).append(times)
                print(f"  rep {rep + 1}/{args.reps} done, load {os.getloadavg()[0]:.1f}")
        finally:
            browser.close()

    print(f"\nRun All of %load_ext + {N_TRACKED} cells, click -> screen (median of {args.reps}, seconds;"
          " 'runs' is the tracked runs' own durations, summed)")
    print(f"{'frontend':<10} {'kernel':<6} {'floor prompt':>12} {'tracked prompt':>14} "
          f"{'last badge':>10} {'runs':>6} {'badge/floor':>11}")
    for frontend in args.frontends.split(","):
        for phase in ("cold", "warm"):
            floor = statistics.median(t[0] for t in results[(frontend, False, phase)])
            prompt, badge, runs = (statistics.median(t[k] for t in results[(frontend, True, phase)])
                                   for k in range(3))
            print(f"{frontend:<10} {phase:<6} {floor:>12.3f} {prompt:>14.3f} {badge:>10.3f} "
                  f"{runs:>6.2f} {badge / floor:>10.2f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
