"""The web front end in local runs: built from ``frontend/`` when its sources changed, then served.

The bundle holds no addresses: the server answers ``/config.json`` with the three APIs' base URLs (and
the venue's floor plan and the event's dates), so one build runs anywhere. Client-side routes
(``/persons/<id>?...``) fall back to ``index.html``, so every URL of the app can be bookmarked.
"""

import argparse
import gzip
import hashlib
import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from udaconnect_devstack.errors import InfrastructureError

log = logging.getLogger(__name__)

# Not sources: what npm installs, what the build writes, and tool caches.
_NOT_SOURCES = ("node_modules", "dist", "test-output")
_BUILD_STAMP = ".source-hash"


def _source_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for folder, subfolders, names in os.walk(root):
        if Path(folder) == root:
            subfolders[:] = [name for name in subfolders if name not in _NOT_SOURCES]  # not walked at all
        files.extend(Path(folder) / name for name in names if not name.endswith(".tsbuildinfo"))
    return sorted(files)


def source_hash(frontend_dir: Path) -> str:
    """A hash of every file of the front end but its outputs, with their paths: equal hashes, equal builds."""
    digest = hashlib.sha256()
    for path in _source_files(frontend_dir):
        digest.update(str(path.relative_to(frontend_dir)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _npm(frontend_dir: Path, *args: str) -> None:
    try:
        subprocess.run(["npm", *args], cwd=frontend_dir, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise InfrastructureError("npm is not installed (scripts/bootstrap.sh installs Node.js)") from exc
    except subprocess.CalledProcessError as exc:
        command = " ".join(args)
        raise InfrastructureError(f"npm {command} failed in {frontend_dir}:\n{exc.stdout}\n{exc.stderr}") from exc


def ensure_node_modules(frontend_dir: Path) -> None:
    """``npm ci`` when node_modules is missing or older than package-lock.json (the Makefile's rule too)."""
    lock = frontend_dir / "package-lock.json"
    installed = frontend_dir / "node_modules" / ".package-lock.json"  # npm writes it on every install
    if installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    log.info("installing the front end's packages (npm ci)")
    _npm(frontend_dir, "ci", "--no-audit", "--no-fund")
    installed.touch()


def ensure_built(frontend_dir: Path) -> Path:
    """The front end's ``dist/``, rebuilt only when its sources changed since the last build."""
    dist = frontend_dir / "dist"
    ensure_node_modules(frontend_dir)
    wanted = source_hash(frontend_dir)
    stamp = dist / _BUILD_STAMP
    if (dist / "index.html").is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return dist
    log.info("building the front end (npm run build)")
    _npm(frontend_dir, "run", "build")
    stamp.write_text(wanted)
    return dist


def first_load_scripts(dist: Path) -> dict[str, int]:
    """The JavaScript a first visit fetches before the app draws (``index.html``'s module scripts and the
    chunks it preloads), each with its size gzipped as the server sends it. Lazily loaded chunks are not in it."""
    index_html = (dist / "index.html").read_text()
    scripts = re.findall(r'<script[^>]*type="module"[^>]*src="([^"]+)"', index_html)
    preloaded = re.findall(r'<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"', index_html)
    return {src: gzipped_size(dist / src.lstrip("/")) for src in sorted(set(scripts + preloaded))}


def gzipped_size(path: Path) -> int:
    # Level 9, as the server's GZipMiddleware sends it.
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


@dataclass(frozen=True)
class FrontendConfig:
    """What ``/config.json`` tells the app: where the APIs are, the venue's floor plan, the event's days."""

    person_api_url: str
    location_api_url: str
    connection_api_url: str
    venue_url: str | None = None
    event_name: str | None = None
    event_start_date: str | None = None
    event_end_date: str | None = None
    # Who the app offers to be, each with a ready token (local runs only; production signs in elsewhere).
    identities: list[dict[str, object]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        event = (
            {"name": self.event_name, "startDate": self.event_start_date, "endDate": self.event_end_date}
            if self.event_name and self.event_start_date and self.event_end_date
            else None
        )
        return {
            "personApiUrl": self.person_api_url,
            "locationApiUrl": self.location_api_url,
            "connectionApiUrl": self.connection_api_url,
            "venueUrl": self.venue_url,
            "event": event,
            "identities": self.identities,
        }


def create_app(dist: Path, config: FrontendConfig, venue_file: Path | None = None) -> Starlette:
    # A build does not change while it is served: list its files once. Only these are ever sent, so no
    # request path can reach outside dist/.
    files = {path.relative_to(dist).as_posix(): path for path in dist.rglob("*") if path.is_file()}
    index = dist / "index.html"
    venue = venue_file.read_bytes() if venue_file is not None else None
    api_origins = " ".join(sorted({config.person_api_url, config.location_api_url, config.connection_api_url}))
    security_headers = {
        # The app talks only to itself and the three APIs; Leaflet positions its panes with inline styles.
        "Content-Security-Policy": (
            f"default-src 'self'; connect-src 'self' {api_origins}; img-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    async def config_json(_request: Request) -> Response:
        return JSONResponse(config.as_json(), headers={"Cache-Control": "no-store", **security_headers})

    async def venue_geojson(_request: Request) -> Response:
        if venue is None:
            return PlainTextResponse("no venue floor plan configured", status_code=404)
        return Response(venue, media_type="application/geo+json", headers={"Cache-Control": "no-cache"})

    async def static_or_app(request: Request) -> Response:
        relative = request.path_params["path"]
        if relative in files:
            # Vite names assets by their content hash: they never change under the same name.
            immutable = relative.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(files[relative], headers={"Cache-Control": cache, **security_headers})
        if "." in relative.rsplit("/", 1)[-1]:
            # A missing file (a stale asset, a typo), not a page of the app.
            return PlainTextResponse("not found", status_code=404, headers=security_headers)
        return FileResponse(index, headers={"Cache-Control": "no-cache", **security_headers})

    return Starlette(
        routes=[
            Route("/config.json", config_json),
            Route("/venue.geojson", venue_geojson),
            Route("/{path:path}", static_or_app),
        ],
        # What the budget in the tests counts: the JavaScript as it travels, gzipped.
        middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
    )


def main() -> None:
    """``udaconnect-frontend``: serve a built front end (started by ``make up`` and the end-to-end tests)."""
    parser = argparse.ArgumentParser(prog="udaconnect-frontend", description=main.__doc__)
    parser.add_argument("--dist", type=Path, default=Path(os.environ.get("FRONTEND_DIST", "frontend/dist")))
    parser.add_argument("--host", default=os.environ.get("FRONTEND_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FRONTEND_PORT", "3000")))
    parser.add_argument("--config", type=Path, required=True, help="a JSON file of FrontendConfig's fields")
    parser.add_argument("--venue", type=Path, default=None, help="the venue's floor plan (GeoJSON)")
    args = parser.parse_args()
    config = FrontendConfig(**json.loads(args.config.read_text()))
    uvicorn.run(create_app(args.dist, config, args.venue), host=args.host, port=args.port, log_level="warning")
