"""The checked-in protobuf/gRPC code is what proto/ generates today (regenerate: scripts/gen-proto.sh)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "libs" / "common" / "src" / "udaconnect" / "v1"


def test_generated_code_matches_the_proto_files(tmp_path: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "gen-proto.sh"), str(tmp_path)], check=True, capture_output=True)
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "udaconnect" / "v1").iterdir() if p.is_file()}
    checked_in = {p.name: p.read_bytes() for p in GENERATED.iterdir() if p.is_file() and p.name != "__init__.py"}

    assert sorted(fresh) == sorted(checked_in), "generated files differ: run scripts/gen-proto.sh"
    stale = [name for name in fresh if fresh[name] != checked_in[name]]
    assert stale == [], f"stale generated code {stale}: run scripts/gen-proto.sh"
