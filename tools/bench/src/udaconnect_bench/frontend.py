"""``udaconnect-bench-frontend``: the web front end's budgets, measured in real headless Chromium.

- JavaScript shipped on first load, gzipped (read from the build).
- A person's page with the demo conference: the time from navigation until the contacts and the map are
  drawn, read from the page's own Performance marks. Each load is a fresh browser context (cold cache),
  as a first visit is. Beside it, the same run's time for the contacts request alone over HTTP (the API
  answer the page waits for), so the page's own share can be seen.

Its own stack (free ports, a temporary folder) with the small demo conference, as ``make up`` runs it.
"""

import argparse
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from udaconnect_bench import auth
from udaconnect_bench.stats import Summary
from udaconnect_bench.targets import Better, Target
from udaconnect_devstack.browser import launch_chromium
from udaconnect_devstack.frontend import ensure_built, first_load_scripts
from udaconnect_devstack.stack import REPO_ROOT, LocalStack, StackPorts

log = logging.getLogger(__name__)

GOAL_FIRST_LOAD_KB = 250.0
GOAL_PAGE_DRAWN_MS = 1000.0
MARKS = ("udaconnect:contacts-drawn", "udaconnect:map-drawn")
# The demo's busiest day, at the page's defaults (5 m, 5-minute window).
QUERY = {"start": "2026-06-01", "end": "2026-06-02", "distance": "5", "window": "5"}
DOCUMENT = REPO_ROOT / "docs" / "benchmarks-frontend.md"


@dataclass(frozen=True)
class PageDraw:
    contacts_ms: float
    map_ms: float

    @property
    def both_ms(self) -> float:
        return max(self.contacts_ms, self.map_ms)


def draw_person_page(browser: Browser, app_url: str, person_id: str) -> PageDraw:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        query = "&".join(f"{name}={value}" for name, value in QUERY.items())
        page.goto(f"{app_url}/persons/{person_id}?{query}")
        marks = {}
        for mark in MARKS:
            page.wait_for_function(f"() => performance.getEntriesByName('{mark}').length > 0", timeout=30_000)
            marks[mark] = float(page.evaluate(f"performance.getEntriesByName('{mark}')[0].startTime"))
        return PageDraw(marks[MARKS[0]], marks[MARKS[1]])
    finally:
        context.close()


def contacts_request_ms(connection_api: str, person_id: str) -> float:
    params = {"start_date": QUERY["start"], "end_date": QUERY["end"], "distance": QUERY["distance"]}
    started = time.perf_counter()
    response = httpx.get(
        f"{connection_api}/api/persons/{person_id}/contacts", params={**params, "window": "5"}, headers=auth.headers()
    )
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(persons: int, rounds: int) -> tuple[list[Target], str]:
    dist = ensure_built(REPO_ROOT / "frontend")
    first_load_kb = sum(first_load_scripts(dist).values()) / 1000
    run_dir = Path(tempfile.mkdtemp(prefix="udaconnect-bench-frontend-"))
    run_dir.chmod(0o711)
    stack = LocalStack(run_dir, StackPorts.free(), frontend=True)
    try:
        stack.start()
        auth.authorize(stack.organizer_token())
        stack.load_demo_and_wait()
        app_url = f"http://localhost:{stack.ports.frontend}"
        listed = httpx.get(
            f"{stack.url('person-api')}/api/persons", params={"limit": persons}, headers=auth.headers()
        ).json()
        ids = [person["id"] for person in listed]
        draws: list[PageDraw] = []
        api_ms: list[float] = []
        with sync_playwright() as driver:
            browser = launch_chromium(driver)
            draw_person_page(browser, app_url, ids[0])  # warm the servers, not the browser: each load is fresh
            for _round in range(rounds):
                for person_id in ids:
                    draws.append(draw_person_page(browser, app_url, person_id))
                    api_ms.append(contacts_request_ms(stack.url("connection-api"), person_id))
            browser.close()
    finally:
        stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)

    both = Summary.of([d.both_ms for d in draws])
    contacts = Summary.of([d.contacts_ms for d in draws])
    map_drawn = Summary.of([d.map_ms for d in draws])
    api = Summary.of(api_ms)
    what = f"{len(draws)} cold loads of /persons/<id> ({len(ids)} demo persons x {rounds}), 2 days, 5 m, 5 min"
    targets = [
        Target(
            "frontend-first-load-js", first_load_kb, GOAL_FIRST_LOAD_KB, Better.LOWER, "kB", "gzipped, from the build"
        ),
        Target("person-page-drawn-p95", both.p95, GOAL_PAGE_DRAWN_MS, Better.LOWER, "ms", what),
    ]
    rows = [
        ("contacts and map drawn (the target)", both),
        ("contacts drawn", contacts),
        ("map drawn", map_drawn),
        ("the contacts request alone over HTTP (baseline)", api),
    ]
    lines = [
        "# Front end benchmarks",
        "",
        "Written by `make bench` (`udaconnect-bench-frontend`). Debian's Chromium, headless, on this machine;",
        "every page load is a fresh browser context (cold cache), timed from navigation start to the page's",
        f"`{MARKS[0]}` and `{MARKS[1]}` Performance marks.",
        "",
        "| target | measured | goal | outcome | what |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {t.name} | {t.measured_text} | {t.goal_text} | {t.outcome} | {t.what} |" for t in targets),
        "",
        "| from navigation (ms) | n | p50 | p95 | max |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {name} | {s.n} | {s.p50:.0f} | {s.p95:.0f} | {s.maximum:.0f} |" for name, s in rows),
        "",
    ]
    return targets, "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="udaconnect-bench-frontend", description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=10, help="demo persons whose page is loaded")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    targets, document = measure(args.persons, args.rounds)
    args.output.write_text(document, encoding="utf-8")
    print(document)
    print("\n".join(target.line() for target in targets), flush=True)
    return 0
