"""The web front end against the real system: the whole stack with the demo conference, in headless Chromium.

One stack for this package, stopped after its last test (before the integration tests start theirs): the
stack ``make up`` runs, on free ports in a temporary folder, with the front end built from ``frontend/``
and served by its local server. Chromium is Debian's (``scripts/bootstrap.sh --browser``),
driven by Playwright; Playwright's own browser downloads are never used.
"""

import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from udaconnect_devstack.browser import launch_chromium
from udaconnect_devstack.stack import REPO_ROOT, LocalStack, StackPorts

# Screenshots and other artefacts a person looks at after the run.
OUTPUT_DIR = REPO_ROOT / "test-output" / "e2e"
AXE_SCRIPT = REPO_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="package")
def demo_stack() -> Iterator[LocalStack]:
    """The whole system with the front end, the small demo conference loaded and stored."""
    run_dir = Path(tempfile.mkdtemp(prefix="udaconnect-e2e-"))
    run_dir.chmod(0o711)  # the postgres user must reach its data folder inside
    system = LocalStack(run_dir, StackPorts.free(), frontend=True)
    try:
        system.start()
        system.load_demo_and_wait()
        yield system
    finally:
        system.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest, output_dir: Path) -> Iterator[Page]:
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        # What the page showed when the test failed, beside the traceback.
        path = output_dir / f"failed-{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
    return report


@pytest.fixture(scope="package")
def app_url(demo_stack: LocalStack) -> str:
    return f"http://localhost:{demo_stack.ports.frontend}"


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Screenshots of this run only: an earlier run's are removed first."""
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)
    OUTPUT_DIR.mkdir(parents=True)
    return OUTPUT_DIR


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core, the accessibility engine, from the front end's locked packages."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: run npm ci in frontend/")
    return AXE_SCRIPT
