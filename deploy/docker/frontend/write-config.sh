#!/bin/sh
# Writes the front end's /config.json (see frontend/src/config.ts) from environment variables:
#   PERSON_API_URL, LOCATION_API_URL, CONNECTION_API_URL  base URLs of the APIs as the browser reaches them
#   VENUE_URL    the venue's floor plan (GeoJSON); empty: none
#   EVENT_JSON   {"name": ..., "startDate": "YYYY-MM-DD", "endDate": "YYYY-MM-DD"} or empty: none
# Production serves no demo identities: users sign in with a token from the identity provider.
set -eu

: "${PERSON_API_URL:?PERSON_API_URL must be set}"
: "${LOCATION_API_URL:?LOCATION_API_URL must be set}"
: "${CONNECTION_API_URL:?CONNECTION_API_URL must be set}"
VENUE_URL="${VENUE_URL:-}"
EVENT_JSON="${EVENT_JSON:-}"
dir="${UDACONNECT_CONFIG_DIR:-/tmp/udaconnect}"

# A JSON string literal (backslashes and double quotes escaped); "null" for an empty value.
json_string() {
    if [ -z "$1" ]; then
        printf 'null'
    else
        printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
    fi
}

mkdir -p "$dir"
cat > "$dir/config.json" <<JSON
{
  "personApiUrl": $(json_string "$PERSON_API_URL"),
  "locationApiUrl": $(json_string "$LOCATION_API_URL"),
  "connectionApiUrl": $(json_string "$CONNECTION_API_URL"),
  "venueUrl": $(json_string "$VENUE_URL"),
  "event": ${EVENT_JSON:-null},
  "identities": []
}
JSON
echo "udaconnect: wrote $dir/config.json"
