#!/usr/bin/env bash
# Regenerates the front end's typed API client from the three APIs' OpenAPI documents:
#   frontend/src/api/openapi/<api>.json   the documents, as the services build them
#   frontend/src/api/generated/<api>.ts   their TypeScript types (openapi-typescript), used with openapi-fetch
# Usage: scripts/gen-api-client.sh [output-dir]   (tests pass a temp dir to check for staleness)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-frontend/src/api}"
mkdir -p "$out/openapi" "$out/generated"
uv run --frozen python scripts/dump_openapi.py "$out/openapi"
for doc in "$out"/openapi/*.json; do
    name=$(basename "$doc" .json)
    frontend/node_modules/.bin/openapi-typescript "$doc" --output "$out/generated/$name.ts" --silent
done
