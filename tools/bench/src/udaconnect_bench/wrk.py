"""wrk, the HTTP load generator (C, one event loop per thread): little CPU taken from the services it measures."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Appended to every script: one machine-readable line at the end of the run.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-RESULT requests=%d duration_us=%d connect_errors=%d read_errors=%d write_errors=%d status_errors=%d "
    .. "timeouts=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

# POST /api/locations: one ping per request, the person drawn in turn from a file of ids, no creation_time
# (the API stamps the time it received the ping), no Idempotency-Key (the API gives a fresh UUIDv7).
SINGLE_POST = """
-- An organizer's token, as every API needs one (the bench sets it in the environment).
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("UDACONNECT_TOKEN")}
local ids = {}
local count = 0
function init(args)
  for line in io.lines(args[1]) do count = count + 1; ids[count] = line end
end
local i = 0
request = function()
  i = i + 1
  -- a point inside the demo venue, a few metres apart from one request to the next
  local lat = 37.7834 + (i % 997) * 0.0000011
  local lon = -122.4018 + (i % 1009) * 0.0000015
  return wrk.format("POST", "/api/locations", headers,
    string.format('{"person_id":"%s","latitude":%.7f,"longitude":%.7f}', ids[(i % count) + 1], lat, lon))
end
"""

# GET /health: the same server's cheapest answer (no token, no body, no broker), the ceiling a single POST
# is compared with: what this machine's HTTP stack alone allows under the same load.
HEALTH = """
request = function()
  return wrk.format("GET", "/health")
end
"""

# POST /api/locations/batch: prebuilt bodies (one per file), sent in turn.
BATCH_POST = """
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("UDACONNECT_TOKEN")}
local bodies = {}
local count = 0
function init(args)
  for _, path in ipairs(args) do
    local file = assert(io.open(path, "rb"))
    count = count + 1
    bodies[count] = file:read("*a")
    file:close()
  end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/locations/batch", headers, bodies[(i % count) + 1])
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def succeeded(self) -> int:
        # Requests that got an answer other than 2xx/3xx are counted in `status`; the others never completed.
        return self.requests - self.errors["status"]

    @property
    def succeeded_per_s(self) -> float:
        return self.succeeded / self.duration_s


def parse_result(output: str) -> WrkResult:
    match = re.search(r"^WRK-RESULT (.+)$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")
    values = {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}
    return WrkResult(
        requests=values["requests"],
        duration_s=values["duration_us"] / 1e6,
        errors={name: values[f"{name}_errors"] for name in ("connect", "read", "write", "status")}
        | {"timeout": values["timeouts"]},
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
    )


def start(
    script: str, script_path: Path, url: str, *, connections: int, seconds: float, args: list[str]
) -> "subprocess.Popen[str]":
    script_path.write_text(script + _DONE, encoding="utf-8")
    argv = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:.0f}s",
        "--timeout",
        "10s",
        "--script",
        str(script_path),
        url,
        "--",
        *args,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: "subprocess.Popen[str]") -> WrkResult:
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with code {process.returncode}:\n{output[-2000:]}")
    return parse_result(output)
