"""Debian's Chromium, headless, driven by Playwright: for the front end's end-to-end tests and its benchmark.

Playwright's own browser downloads are never used (``scripts/bootstrap.sh --browser`` installs Chromium).
"""

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

from udaconnect_devstack.errors import InfrastructureError

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# As root Chromium needs --no-sandbox. Without the background-networking flags it keeps calling home,
# and a closed network refuses it, many connections at a time.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright: Playwright) -> Browser:
    if not CHROMIUM.exists():
        raise InfrastructureError(f"{CHROMIUM} is missing: scripts/bootstrap.sh --browser installs Debian's chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
