"""The front end's checked-in API client is what the services' OpenAPI documents generate today.

Regenerate with scripts/gen-api-client.sh after changing an API (a route, a parameter, a schema).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from udaconnect_devstack.frontend import ensure_node_modules

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "frontend" / "src" / "api"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for folder in ("openapi", "generated")
        for path in sorted((root / folder).glob("*"))
        if path.is_file()
    }


def test_openapi_documents_and_typescript_types_match_the_services(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: scripts/bootstrap.sh installs Node.js")
    ensure_node_modules(ROOT / "frontend")
    subprocess.run([str(ROOT / "scripts" / "gen-api-client.sh"), str(tmp_path)], check=True, capture_output=True)
    fresh, checked_in = _tree(tmp_path), _tree(CHECKED_IN)

    assert sorted(fresh) == sorted(checked_in), "generated files differ: run scripts/gen-api-client.sh"
    stale = [name for name in fresh if fresh[name] != checked_in[name]]
    assert stale == [], f"stale API client {stale}: run scripts/gen-api-client.sh"
