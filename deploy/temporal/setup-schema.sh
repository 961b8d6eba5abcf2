#!/bin/sh
# Sets up (first run) or upgrades (later runs) Temporal's schema on PostgreSQL,
# with the temporal-sql-tool and schema files of the admin-tools image, the
# way temporalio/samples-server's compose/scripts/setup-postgres.sh does.
# The databases themselves are created by deploy/postgres/init-databases.sh.
#
# Safe to run on every `docker compose up`: setup-schema (which writes version
# 0.0) only runs while a database has no schema_version yet; update-schema
# applies only the versions newer than the recorded one.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12
export PGPASSWORD="$SQL_PASSWORD"

sql_tool() {
	temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

until pg_isready -q -h "$POSTGRES_SEEDS" -p "$DB_PORT" -U "$POSTGRES_USER"; do
	echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
	sleep 1
done

for pair in temporal:temporal temporal_visibility:visibility; do
	db=${pair%%:*}
	dir=${pair#*:}
	has_version=$(psql -h "$POSTGRES_SEEDS" -p "$DB_PORT" -U "$POSTGRES_USER" -d "$db" -tAc \
		"SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
	if [ "$has_version" = "0" ]; then
		echo "$db: new database, setting up the schema"
		sql_tool --db "$db" setup-schema -v 0.0
	fi
	echo "$db: applying schema updates from $SCHEMA_ROOT/$dir/versioned"
	sql_tool --db "$db" update-schema -d "$SCHEMA_ROOT/$dir/versioned"
done
echo "Temporal schema is up to date"
