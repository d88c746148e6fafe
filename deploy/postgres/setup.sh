#!/bin/bash
# The compose service `postgres-setup` runs this at every `docker compose up`, as the superuser,
# before `migrate`: Chirpstream's roles and database from roles.sql, every role's password set
# from its secret (change the secret and `up` again to rotate it), and the empty `druid` database
# the druid profile keeps its metadata in. Each secret may come from VAR_FILE instead of VAR.
# Placeholders from .env.example and empty secrets stop it, naming the variable.
set -euo pipefail
secret() {  # NAME: the value of NAME, or of the file NAME_FILE names
  local file_var="${1}_FILE" value
  if [ -n "${!file_var:-}" ]; then value=$(cat "${!file_var}"); else value="${!1:-}"; fi
  if [ -z "$value" ]; then echo "setup: $1 is empty: set it in .env (see .env.example)" >&2; return 1; fi
  case "${value,,}" in change-me*) echo "setup: $1 is a placeholder ('change-me…'): set a real secret" >&2; return 1 ;; esac
  printf '%s' "$value"
}
PGPASSWORD=$(secret POSTGRES_PASSWORD); export PGPASSWORD
owner=$(secret CHIRP_OWNER_PASSWORD)
writer=$(secret CHIRP_WRITER_PASSWORD)
reader=$(secret CHIRP_READER_PASSWORD)
export PGHOST="${PGHOST:-postgres}" PGUSER="${POSTGRES_USER:-postgres}" PGDATABASE=postgres
psql -X -q -v owner_pw="$owner" -v writer_pw="$writer" -v reader_pw="$reader" -f "$(dirname "$0")/roles.sql"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE DATABASE druid' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'druid') \gexec
SQL
echo "setup: roles chirp, chirp_writer, chirp_reader and database chirp ready"
