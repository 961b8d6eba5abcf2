#!/usr/bin/env bash
# Fails when `sqlc generate` would change the committed code, then runs
# `sqlc vet` (db-prepare) against freshly migrated databases.
set -euo pipefail
cd "$(dirname "$0")/.."
sqlc=(go tool -modfile=tools/sqlc.mod sqlc)
if ! out=$("${sqlc[@]}" diff 2>&1); then
  echo "sqlc: the generated code is not what sqlc.yaml and queries/ produce; run 'make generate':" >&2
  echo "$out" >&2
  exit 1
fi
base=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
services=$(grep -E '^  - name: ' sqlc.yaml | awk '{print $3}')
for s in $services; do
  S=$(echo "$s" | tr a-z A-Z)
  url=$(echo "$base" | sed -E "s#/[^/?]*(\?|$)#/sqlc_vet_$s\1#")
  export "${S}_DATABASE_URL=$url" "SQLC_VET_${S}_URL=$url"
done
LOG_LEVEL=warn go run ./cmd/delivery migrate $services
"${sqlc[@]}" vet
echo "sqlc: generated code is current; vet passed for: $(echo $services)"
