#!/bin/sh
# PostgreSQL runs this once, when its data volume is first initialised
# (/docker-entrypoint-initdb.d). Two roles, least privilege:
#   temporal  owns temporal and temporal_visibility (schema set up by deploy/temporal/setup-schema.sh)
#   delivery  owns one database per service (tables created by `delivery migrate`); CREATEDB so
#             that a service added later gets its database on an existing volume too.
# btree_gin is created here, as the superuser, because Temporal's visibility schema needs it.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v temporal_password="$TEMPORAL_DB_PASSWORD" \
	-v delivery_password="$DELIVERY_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
\connect postgres

CREATE ROLE delivery LOGIN CREATEDB PASSWORD :'delivery_password';
CREATE DATABASE delivery_users OWNER delivery;
CREATE DATABASE delivery_products OWNER delivery;
CREATE DATABASE delivery_customers OWNER delivery;
CREATE DATABASE delivery_deliverymen OWNER delivery;
CREATE DATABASE delivery_orders OWNER delivery;
SQL
