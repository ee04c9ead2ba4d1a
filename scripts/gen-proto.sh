#!/usr/bin/env bash
# Regenerates the Python code for proto/ into the shared library (libs/common/src).
# Usage: scripts/gen-proto.sh [output-dir]   (tests pass a temp dir to check for staleness)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-libs/common/src}"
mkdir -p "$out"
uv run --frozen python -m grpc_tools.protoc -I proto \
  --python_out="$out" --mypy_out="$out" \
  --grpc_python_out="$out" --mypy_grpc_out="$out" \
  proto/udaconnect/v1/*.proto
