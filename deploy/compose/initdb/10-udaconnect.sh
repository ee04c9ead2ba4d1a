#!/bin/sh
# First start of the postgis/postgis container (an empty data volume): the owner role and database, the
# read-only role, the extensions the migrations use, and what the reader may read. The same as the local
# stack and the Kubernetes Cluster's bootstrap (deploy/k8s/base/postgres.yaml).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$UDACONNECT_OWNER_PASSWORD" -v reader_password="$UDACONNECT_READER_PASSWORD" <<'SQL'
CREATE ROLE udaconnect LOGIN PASSWORD :'owner_password';
CREATE ROLE udaconnect_reader LOGIN PASSWORD :'reader_password';
ALTER ROLE udaconnect_reader SET default_transaction_read_only = on;
CREATE DATABASE udaconnect OWNER udaconnect ENCODING 'UTF8';
GRANT CONNECT ON DATABASE udaconnect TO udaconnect_reader;
\connect udaconnect
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO udaconnect;
GRANT USAGE ON SCHEMA public TO udaconnect_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE udaconnect IN SCHEMA public GRANT SELECT ON TABLES TO udaconnect_reader;
SQL
