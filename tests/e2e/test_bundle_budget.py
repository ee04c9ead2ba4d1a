"""The front end's first-load budget, read from the build output: JavaScript ≤ 250 kB gzipped.

First load is what ``index.html`` makes the browser fetch before the app can draw: its module scripts and
the chunks it preloads. Chunks loaded later (the person page, with the map) are not counted, but listed.
"""

import pytest

from udaconnect_devstack.frontend import ensure_built, first_load_scripts, gzipped_size
from udaconnect_devstack.stack import REPO_ROOT

pytestmark = pytest.mark.e2e

FIRST_LOAD_BUDGET_BYTES = 250 * 1000


def test_first_load_javascript_is_within_budget() -> None:
    dist = ensure_built(REPO_ROOT / "frontend")
    first_load = first_load_scripts(dist)
    assert first_load, "index.html loads no module script: not a Vite build?"
    total = sum(first_load.values())
    print(f"\nfirst-load JavaScript: {total / 1000:.1f} kB gzipped (budget {FIRST_LOAD_BUDGET_BYTES / 1000:.0f} kB)")
    for path in sorted((dist / "assets").glob("*.js")):
        name = f"/{path.relative_to(dist)}"
        print(f"  {name}: {gzipped_size(path) / 1000:.1f} kB{'' if name in first_load else ' (loaded later)'}")
    assert total <= FIRST_LOAD_BUDGET_BYTES
