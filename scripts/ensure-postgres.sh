#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server the tests can use: $TEST_DATABASE_URL or
# $DATABASE_URL when set, else the local server on 127.0.0.1:5432 when it answers,
# else a private cluster started (and left running) under .data/test-postgres
# from the installed PostgreSQL binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${TEST_DATABASE_URL:-}" ]; then echo "$TEST_DATABASE_URL"; exit 0; fi
if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; exit 0; fi

local_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
answers() { # $1 port
  if command -v pg_isready >/dev/null; then pg_isready -q -h 127.0.0.1 -p "$1"; else (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; fi
}
if answers 5432; then echo "$local_url"; exit 0; fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "no PostgreSQL answers on 127.0.0.1:5432 and no PostgreSQL binaries are installed:" >&2
  echo "  install them (Debian: apt-get install postgresql) or set TEST_DATABASE_URL" >&2
  exit 1
fi
dir="$PWD/.data/test-postgres"
port=55432
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
mkdir -p "$dir"
if [ ! -f "$dir/PG_VERSION" ]; then
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  "${as_pg[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! answers "$port"; then
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=/tmp -c fsync=off -c max_connections=300" start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
