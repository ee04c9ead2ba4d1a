"""Every screen of the web front end in headless Chromium, against the real running services.

The services run with the small demo conference (40 people, two days). The tests read the same answers
from the APIs directly (as the organizer, or as the attendee the page acts as), so each check compares the
page with what the system holds. The page starts as the first identity of ``/config.json``, the organizer.
"""

import json
import os
import re
import signal
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

DAYS = {"start_date": "2026-06-01", "end_date": "2026-06-02"}
PAGE_QUERY = "start=2026-06-01&end=2026-06-02&distance=5&window=5"


@pytest.fixture(scope="module")
def organizer(demo_stack: LocalStack) -> dict[str, str]:
    """The organizer's Authorization header, for reading the APIs directly."""
    return demo_stack.organizer_headers()


@pytest.fixture(scope="module")
def attendee(app_url: str) -> dict[str, Any]:
    """The attendee the front end offers (the second identity of its /config.json), as it serves it."""
    identities = httpx.get(f"{app_url}/config.json").raise_for_status().json()["identities"]
    assert [identity["role"] for identity in identities] == ["organizer", "attendee"], identities
    chosen: dict[str, Any] = identities[1]
    return chosen


@pytest.fixture(scope="module")
def busiest(demo_stack: LocalStack, organizer: dict[str, str]) -> dict[str, Any]:
    """The demo person with the most contacts at 5 m within 5 minutes, and those contacts."""
    persons = httpx.get(f"{demo_stack.url('person-api')}/api/persons", params={"limit": 100}, headers=organizer).json()
    best: dict[str, Any] = {}
    for person in persons[:12]:
        contacts = httpx.get(
            f"{demo_stack.url('connection-api')}/api/persons/{person['id']}/contacts",
            params={**DAYS, "distance": 5, "window": 5, "limit": 1000},
            headers=organizer,
        ).json()
        if len(contacts) > len(best.get("contacts", [])):
            best = {"person": person, "contacts": contacts}
    assert best, "the demo conference has nobody who met anyone"
    return best


# Pixels near the map's two colours (frontend/src/components/PersonMap.tsx: OWN #1d4ed8, MET #c2410c).
COUNT_MAP_COLOURS = """canvas => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const near = (i, [r, g, b]) => Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60;
    let own = 0, met = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        if (near(i, [0x1d, 0x4e, 0xd8])) own++;
        else if (near(i, [0xc2, 0x41, 0x0c])) met++;
    }
    return { own, met };
}"""


def _person_url(app_url: str, person_id: str, query: str = PAGE_QUERY) -> str:
    return f"{app_url}/persons/{person_id}?{query}"


def test_people_are_listed_in_pages_and_searchable_by_keyboard(
    page: Page, app_url: str, demo_stack: LocalStack, organizer: dict[str, str]
) -> None:
    everyone = httpx.get(
        f"{demo_stack.url('person-api')}/api/persons", params={"limit": 1000}, headers=organizer
    ).json()
    page.goto(app_url)
    people = page.get_by_test_id("people-list")
    expect(people.get_by_role("link").first).to_be_visible()
    # Follow "more" until every person is listed: paging never silently drops anyone.
    more = page.get_by_role("button", name=re.compile("more", re.IGNORECASE))
    while more.count() > 0 and more.is_visible():
        before = people.get_by_role("link").count()
        more.click()
        expect(people.get_by_role("link")).not_to_have_count(before)
    names = people.get_by_role("link").all_inner_texts()
    assert len(names) == len(everyone)

    # Search by company, typed from the keyboard.
    company = everyone[0]["company_name"]
    expected = {p["id"] for p in everyone if company.lower() in p["company_name"].lower()}
    search = page.get_by_role("searchbox", name=re.compile("search", re.IGNORECASE))
    expect(search).to_have_attribute("data-testid", "people-search")
    search.focus()
    page.keyboard.type(company)
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(people.get_by_role("link")).to_have_count(len(expected))
    hrefs = {link.get_attribute("href") or "" for link in people.get_by_role("link").all()}
    assert {href.rsplit("/", 1)[-1].split("?")[0] for href in hrefs} == expected
    # Enter on a focused row opens that person's page.
    people.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/persons/[0-9a-f-]{36}"))


@contextmanager
def suspended(stack: LocalStack, name: str) -> Iterator[None]:
    """The service is frozen (SIGSTOP) inside the block: it holds its connections but does no work."""
    pid = stack.services[name].pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_new_person_is_pending_until_stored_then_readable(
    page: Page, app_url: str, demo_stack: LocalStack, organizer: dict[str, str], output_dir: Path
) -> None:
    page.goto(app_url)
    form = page.get_by_test_id("add-person-form")
    form.get_by_label(re.compile("first name", re.IGNORECASE)).fill("Grace")
    form.get_by_label(re.compile("last name", re.IGNORECASE)).fill("Hopper-E2E")
    form.get_by_label(re.compile("company", re.IGNORECASE)).fill("Compilers Ltd")
    # The write is accepted by Kafka, but the consumer is held: the person cannot be stored yet.
    with suspended(demo_stack, "ingest-consumer"):
        form.get_by_role("button", name=re.compile("add", re.IGNORECASE)).click()
        pending = page.get_by_test_id("pending-person").filter(has_text="Hopper-E2E")
        expect(pending).to_have_attribute("data-status", "pending")
        page.wait_for_timeout(2000)
        expect(pending).to_have_attribute("data-status", "pending")
        page.screenshot(path=str(output_dir / "add-person-pending-1280.png"), full_page=True)
    expect(pending).to_have_attribute("data-status", "stored", timeout=30_000)
    page.screenshot(path=str(output_dir / "add-person-stored-1280.png"), full_page=True)
    found = httpx.get(
        f"{demo_stack.url('person-api')}/api/persons", params={"q": "Hopper-E2E"}, headers=organizer
    ).json()
    assert [p["company_name"] for p in found] == ["Compilers Ltd"]


def test_a_write_that_fails_says_why_and_keeps_the_form(
    page: Page, app_url: str, demo_stack: LocalStack, organizer: dict[str, str]
) -> None:
    page.goto(app_url)
    form = page.get_by_test_id("add-person-form")
    expect(form).to_be_visible()
    person_api = demo_stack.services["person-api"]
    person_api.stop()
    try:
        form.get_by_label(re.compile("first name", re.IGNORECASE)).fill("Ada")
        form.get_by_label(re.compile("last name", re.IGNORECASE)).fill("Unsent-E2E")
        form.get_by_label(re.compile("company", re.IGNORECASE)).fill("Engines Ltd")
        form.get_by_role("button", name=re.compile("add", re.IGNORECASE)).click()
        error = form.get_by_test_id("error-message")
        expect(error).to_contain_text(re.compile("person", re.IGNORECASE), timeout=30_000)
        # What was typed is still there to send again.
        expect(form.get_by_label(re.compile("last name", re.IGNORECASE))).to_have_value("Unsent-E2E")
    finally:
        person_api.start()
    # Empty required fields are refused before anything is sent.
    form.get_by_label(re.compile("last name", re.IGNORECASE)).fill("")
    form.get_by_role("button", name=re.compile("add", re.IGNORECASE)).click()
    expect(form).to_contain_text(re.compile("required", re.IGNORECASE))
    found = httpx.get(
        f"{demo_stack.url('person-api')}/api/persons", params={"q": "Unsent-E2E"}, headers=organizer
    ).json()
    assert found == []


def test_a_person_page_shows_contacts_connections_map_and_timeline(
    page: Page, app_url: str, demo_stack: LocalStack, organizer: dict[str, str], busiest: dict[str, Any]
) -> None:
    person, contacts = busiest["person"], busiest["contacts"]
    page.goto(_person_url(app_url, person["id"]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(person["last_name"])

    table = page.get_by_test_id("contacts-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(contacts))
    top = contacts[0]["person"]
    expect(rows.first).to_contain_text(top["last_name"])
    expect(rows.first).to_contain_text(str(contacts[0]["encounters"]))

    first_page = httpx.get(
        f"{demo_stack.url('connection-api')}/api/persons/{person['id']}/connection",
        params={**DAYS, "distance": 5, "window": 5},
        headers=organizer,
    ).json()
    connections = page.get_by_test_id("connections-list")
    expect(connections).to_contain_text(first_page[0]["person"]["last_name"])

    for mark in ("udaconnect:contacts-drawn", "udaconnect:map-drawn"):
        page.wait_for_function(f"() => performance.getEntriesByName('{mark}').length > 0")
    # The map draws on a canvas: count the pixels of the person's colour and of the meeting points' colour.
    # The meeting points come with their own request, and may be drawn a moment after the mark.
    canvas = page.get_by_test_id("person-map").locator("canvas").first
    deadline = time.monotonic() + 15
    drawn = canvas.evaluate(COUNT_MAP_COLOURS)
    while (drawn["own"] <= 100 or drawn["met"] <= 100) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        drawn = canvas.evaluate(COUNT_MAP_COLOURS)
    assert drawn["own"] > 100, drawn
    assert drawn["met"] > 100, drawn
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("svg")).to_be_visible()
    expect(timeline).to_contain_text(top["last_name"])


def test_contacts_sort_by_any_column(page: Page, app_url: str, busiest: dict[str, Any]) -> None:
    page.goto(_person_url(app_url, busiest["person"]["id"]))
    table = page.get_by_test_id("contacts-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    header = table.get_by_role("columnheader", name=re.compile("closest", re.IGNORECASE))
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", re.compile("ascending|descending"))
    direction = header.get_attribute("aria-sort")
    cells = table.locator("tbody tr td:nth-child(6)").all_inner_texts()
    # As shown ("< 0.1 m", "0.3 m", "12 m"): in the order the header says.
    shown = [float(re.sub(r"[^0-9.]", "", text)) for text in cells]
    assert len(shown) == len(busiest["contacts"])
    assert shown == sorted(shown, reverse=direction == "descending"), (direction, shown)
    header.get_by_role("button").click()
    expect(header).not_to_have_attribute("aria-sort", direction or "")


def _encounters(stack: LocalStack, person_id: str, distance: float) -> int:
    contacts = httpx.get(
        f"{stack.url('connection-api')}/api/persons/{person_id}/contacts",
        params={**DAYS, "distance": distance, "window": 5, "limit": 1000},
        headers=stack.organizer_headers(),
    ).json()
    return sum(contact["encounters"] for contact in contacts)


def test_changing_the_distance_changes_the_answer_and_the_url(
    page: Page, app_url: str, demo_stack: LocalStack, busiest: dict[str, Any]
) -> None:
    person_id = busiest["person"]["id"]
    near, wider = _encounters(demo_stack, person_id, 5), _encounters(demo_stack, person_id, 50)
    assert wider > near, "within 50 m the demo crowd has more encounters than within 5 m"
    page.goto(_person_url(app_url, person_id))
    summary = page.get_by_label("Summary")
    expect(summary).to_contain_text(f"{near:,}")
    distance = page.get_by_label(re.compile("distance", re.IGNORECASE))
    distance.fill("50")
    distance.press("Enter")
    expect(page).to_have_url(re.compile(r"distance=50"))
    expect(summary).to_contain_text(f"{wider:,}")

    # The URL is the state: opened afresh, it shows the same answer with the same controls.
    page.goto(page.url)
    expect(page.get_by_label(re.compile("distance", re.IGNORECASE))).to_have_value("50")
    expect(summary).to_contain_text(f"{wider:,}")


def test_an_api_that_is_down_gives_a_readable_error_and_the_rest_still_works(
    page: Page, app_url: str, demo_stack: LocalStack, busiest: dict[str, Any], output_dir: Path
) -> None:
    connection_api = demo_stack.services["connection-api"]
    connection_api.stop()
    try:
        page.goto(_person_url(app_url, busiest["person"]["id"]))
        error = page.get_by_test_id("error-message").first
        expect(error).to_be_visible(timeout=30_000)
        expect(error).to_contain_text(re.compile("connection", re.IGNORECASE))
        # The person and their own pings come from the other two services, which still answer.
        expect(page.get_by_role("heading", level=1)).to_contain_text(busiest["person"]["last_name"])
        page.screenshot(path=str(output_dir / "person-connection-api-down-1280.png"), full_page=True)
    finally:
        connection_api.start()
    page.get_by_role("button", name=re.compile("retry|try again", re.IGNORECASE)).first.click()
    expect(page.get_by_test_id("contacts-table").locator("tbody tr")).to_have_count(len(busiest["contacts"]))


def _sign_in_as(page: Page, name: str) -> None:
    """Chooses who the page acts as, from the keyboard: the header's button, then the identity's."""
    toggle = page.get_by_test_id("identity-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    choices = page.get_by_role("group", name="Who are you?")
    choices.get_by_role("button", name=re.compile(f"^{re.escape(name)}")).focus()
    page.keyboard.press("Enter")
    expect(toggle).to_contain_text(name)
    expect(choices).to_have_count(0)


def test_an_attendee_sees_their_own_connections_and_not_someone_elses(
    page: Page,
    app_url: str,
    demo_stack: LocalStack,
    attendee: dict[str, Any],
    busiest: dict[str, Any],
    output_dir: Path,
) -> None:
    as_attendee = {"Authorization": f"Bearer {attendee['token']}"}
    own = (
        httpx.get(
            f"{demo_stack.url('connection-api')}/api/persons/{attendee['personId']}/contacts",
            params={**DAYS, "distance": 5, "window": 5, "limit": 1000},
            headers=as_attendee,
        )
        .raise_for_status()
        .json()
    )
    me = httpx.get(f"{demo_stack.url('person-api')}/api/persons/{attendee['personId']}", headers=as_attendee).json()

    page.goto(app_url)
    expect(page.get_by_test_id("identity-toggle")).to_contain_text("Organizer")
    _sign_in_as(page, attendee["name"])
    # Adding people is for organizers: the page says so instead of offering a form the API would refuse.
    expect(page.get_by_test_id("add-person-organizers-only")).to_contain_text("Only organizers")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My connections").click()
    expect(page).to_have_url(re.compile(rf"/persons/{attendee['personId']}\?"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(me["last_name"])
    rows = page.get_by_test_id("contacts-table").locator("tbody tr")
    if own:
        expect(rows).to_have_count(len(own))
        expect(rows.first).to_contain_text(own[0]["person"]["last_name"])
    else:
        expect(page.get_by_test_id("contacts-table")).to_contain_text("No contacts")
    page.screenshot(path=str(output_dir / "attendee-own-page-1280.png"), full_page=True)

    someone_else = busiest["person"] if busiest["person"]["id"] != attendee["personId"] else own[0]["person"]
    page.goto(_person_url(app_url, someone_else["id"]))
    refusal = page.get_by_role("alert")
    # Each section's own refusal may come first (the connection API answers before the person API does);
    # once the person is refused, the page shows one refusal instead of one in each section.
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text("You may not see this")
    expect(refusal).to_contain_text(f"You are signed in as {attendee['name']}")
    expect(page.get_by_test_id("contacts-table")).to_have_count(0)
    page.screenshot(path=str(output_dir / "attendee-other-page-1280.png"), full_page=True)
    refusal.get_by_role("link", name="See your own connections").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(me["last_name"])


def test_the_chosen_identity_survives_a_reload_but_not_a_new_tab(
    page: Page, app_url: str, attendee: dict[str, Any]
) -> None:
    page.goto(app_url)
    _sign_in_as(page, attendee["name"])
    page.reload()
    toggle = page.get_by_test_id("identity-toggle")
    expect(toggle).to_contain_text(attendee["name"])
    expect(page.get_by_role("link", name="My connections")).to_be_visible()

    # Kept per tab (sessionStorage): a new tab starts as the first identity again.
    other_tab = page.context.new_page()
    other_tab.goto(app_url)
    expect(other_tab.get_by_test_id("identity-toggle")).to_contain_text("Organizer")
    other_tab.close()

    # Signed out stays signed out across a reload, and the APIs then refuse: the page says so.
    toggle.click()
    page.get_by_role("group", name="Who are you?").get_by_role("button", name="Sign out").click()
    page.reload()
    expect(toggle).to_contain_text("Not signed in")
    refusal = page.get_by_test_id("people-list").get_by_role("alert")
    expect(refusal).to_contain_text(re.compile("sign-in", re.IGNORECASE))
    refusal.get_by_role("button", name="Choose who you are").click()
    page.get_by_role("group", name="Who are you?").get_by_role("button", name="Organizer").click()
    expect(page.get_by_test_id("people-list").get_by_role("link").first).to_be_visible()


def _wait_for_status(url: str, headers: dict[str, str], status: int, timeout: float = 30.0) -> None:
    """Reads ``url`` until it answers ``status``: writes and deletions are applied asynchronously."""
    deadline = time.monotonic() + timeout
    while (answer := httpx.get(url, headers=headers).status_code) != status:
        assert time.monotonic() < deadline, f"{url} still answers {answer}, not {status}"
        time.sleep(0.2)


def test_an_organizer_downloads_a_persons_data_and_deletes_them(
    page: Page, app_url: str, demo_stack: LocalStack, organizer: dict[str, str], output_dir: Path, tmp_path: Path
) -> None:
    # A throwaway person, never one of the demo conference's (other tests read those).
    created = (
        httpx.post(
            f"{demo_stack.url('person-api')}/api/persons",
            json={"first_name": "Dora", "last_name": "Deleted-E2E", "company_name": "Ephemeral Ltd"},
            headers={**organizer, "Idempotency-Key": str(uuid.uuid4())},
        )
        .raise_for_status()
        .json()
    )
    person_url = f"{demo_stack.url('person-api')}/api/persons/{created['id']}"
    _wait_for_status(person_url, organizer, 200)

    page.goto(_person_url(app_url, created["id"]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dora Deleted-E2E")
    data = page.get_by_role("region", name="Data of Dora Deleted-E2E")
    with page.expect_download() as download_info:
        data.get_by_role("button", name="Download GPX").click()
    download = download_info.value
    assert download.suggested_filename == f"udaconnect-{created['id']}.gpx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    root = ET.parse(saved).getroot()  # noqa: S314 - our own service's output
    assert root.tag.rsplit("}", 1)[-1] == "gpx", root.tag
    expect(data.get_by_role("status")).to_contain_text("Saved")

    data.get_by_role("button", name="Delete Dora Deleted-E2E and all their data").click()
    confirm = data.get_by_role("group", name=re.compile("cannot be undone"))
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    page.screenshot(path=str(output_dir / "person-delete-confirm-1280.png"), full_page=True)
    confirm.get_by_role("button", name="Yes, delete Dora Deleted-E2E").click()
    # Accepted, then read back until gone: the people list, saying so.
    expect(page.get_by_test_id("deleted-notice")).to_contain_text("Deleted: Dora Deleted-E2E", timeout=20_000)
    expect(page).to_have_url(re.compile(r"/$"))
    assert httpx.get(person_url, headers=organizer).status_code == 404
    export = httpx.get(f"{person_url}/export", params={"format": "json"}, headers=organizer)
    assert export.status_code == 404
    found = httpx.get(
        f"{demo_stack.url('person-api')}/api/persons", params={"q": "Deleted-E2E"}, headers=organizer
    ).json()
    assert found == []


SCREENS: dict[str, Callable[[str, str], str]] = {
    "people": lambda app_url, person_id: app_url,
    "search": lambda app_url, person_id: f"{app_url}/?q=an",
    "person": lambda app_url, person_id: _person_url(app_url, person_id),
    "person-no-window-50m": lambda app_url, person_id: _person_url(
        app_url, person_id, "start=2026-06-01&end=2026-06-01&distance=50"
    ),
    "person-empty": lambda app_url, person_id: _person_url(app_url, person_id, "start=2026-05-01&end=2026-05-02"),
    "who-are-you": lambda app_url, person_id: app_url,
}


def _open_who_are_you(page: Page) -> None:
    page.get_by_test_id("identity-toggle").click()
    expect(page.get_by_role("group", name="Who are you?")).to_be_visible()


# What to do on a screen once it has loaded, to reach the state checked and screenshotted.
AFTER_LOAD: dict[str, Callable[[Page], None]] = {"who-are-you": _open_who_are_you}


def _after_load(page: Page, screen: str) -> None:
    action = AFTER_LOAD.get(screen)
    if action is not None:
        action(page)


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)


@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_has_no_serious_accessibility_violations(
    browser: Browser, app_url: str, busiest: dict[str, Any], screen: str, axe_script: Path
) -> None:
    # The app's Content-Security-Policy forbids injected scripts, axe-core's included: bypassed here only.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(SCREENS[screen](app_url, busiest["person"]["id"]))
    _settle(page)
    _after_load(page, screen)
    page.add_script_tag(path=str(axe_script))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    context.close()
    assert serious == [], json.dumps(serious, indent=1)


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_screenshots_of_every_screen(
    page: Page, app_url: str, busiest: dict[str, Any], output_dir: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    saved = []
    for name, url in SCREENS.items():
        page.goto(url(app_url, busiest["person"]["id"]))
        _settle(page)
        _after_load(page, name)
        path = output_dir / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    # Nothing is wider than the screen: a phone never scrolls sideways (tables scroll inside themselves).
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert all(path.stat().st_size > 10_000 for path in saved)
    print("\nscreenshots:", *(str(path) for path in saved), sep="\n  ")
