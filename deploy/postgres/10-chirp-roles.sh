#!/bin/bash
# Run once by the official postgres image on an empty data volume (docker-entrypoint-initdb.d):
# the writer role that owns the Chirpstream schema (the loader applies its migrations as it), the
# read-only role for Superset and the chirp CLI, the database, and an empty `druid` database
# (Druid's metadata store in the compose `druid` profile). The loader grants the reader
# SELECT after every migration run.
set -euo pipefail
: "${CHIRP_WRITER_PASSWORD:?set CHIRP_WRITER_PASSWORD}"
: "${CHIRP_READER_PASSWORD:?set CHIRP_READER_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v writer_pw="$CHIRP_WRITER_PASSWORD" -v reader_pw="$CHIRP_READER_PASSWORD" <<'SQL'
CREATE ROLE chirp LOGIN PASSWORD :'writer_pw';
CREATE ROLE chirp_reader LOGIN PASSWORD :'reader_pw';
CREATE DATABASE chirp OWNER chirp ENCODING 'UTF8' TEMPLATE template0;
-- Metadata store of Druid in the compose `druid` profile; empty otherwise.
CREATE DATABASE druid;
\connect chirp
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO chirp_reader;
SQL
