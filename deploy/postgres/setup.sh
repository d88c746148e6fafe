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
role_secret() {  # NAME: a secret that also goes into connection URLs, so URL-safe as it is
  local value
  value=$(secret "$1") || return 1
  [[ $value =~ ^[A-Za-z0-9._~-]+$ ]] \
    || { echo "setup: $1 may hold letters, digits, '.', '_', '~' and '-' only (it goes into connection URLs as it is)" >&2; return 1; }
  printf '%s' "$value"
}
PGPASSWORD=$(secret POSTGRES_PASSWORD); export PGPASSWORD
# roles.sql reads these from the environment (\getenv): no password on a command line.
CHIRP_OWNER_PASSWORD=$(role_secret CHIRP_OWNER_PASSWORD)
CHIRP_WRITER_PASSWORD=$(role_secret CHIRP_WRITER_PASSWORD)
CHIRP_READER_PASSWORD=$(role_secret CHIRP_READER_PASSWORD)
export CHIRP_OWNER_PASSWORD CHIRP_WRITER_PASSWORD CHIRP_READER_PASSWORD
export PGHOST="${PGHOST:-postgres}" PGUSER="${POSTGRES_USER:-postgres}" PGDATABASE=postgres
psql -X -q -f "$(dirname "$0")/roles.sql"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE DATABASE druid' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'druid') \gexec
SQL
echo "setup: roles chirp, chirp_writer, chirp_reader and database chirp ready"
