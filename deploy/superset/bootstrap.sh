#!/bin/bash
# Provisions Superset for Chirpstream, then runs the given command (the server) if any:
# metadata database upgrade, the admin user from the environment, roles and permissions, the
# dashboard bundle built from dashboard/ and imported (replacing an earlier import), Druid as a
# second database when DRUID_DATABASE_URI is set, and read access for the Public role when the
# dashboard is public. Idempotent: it runs at every container start.
#
# Environment: SUPERSET_CONFIG_PATH (superset_config.py), SUPERSET_SECRET_KEY, CHIRP_DATABASE_URI
# (read-only role), SUPERSET_ADMIN_USER (admin), SUPERSET_ADMIN_PASSWORD, SUPERSET_HOME,
# optional DRUID_DATABASE_URI, SUPERSET_PUBLIC_DASHBOARD (true).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${CHIRP_DATABASE_URI:?set CHIRP_DATABASE_URI (the Chirpstream database, read-only role)}"
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD}"
ADMIN="${SUPERSET_ADMIN_USER:-admin}"
HOME_DIR="${SUPERSET_HOME:-/app/superset_home}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$HOME_DIR"

echo "bootstrap: superset db upgrade"
superset db upgrade
if ! superset fab list-users 2>/dev/null | grep -q "username:$ADMIN "; then
  echo "bootstrap: creating admin $ADMIN"
  superset fab create-admin --username "$ADMIN" --firstname Chirpstream --lastname Admin \
    --email "$ADMIN@chirpstream.invalid" --password "$SUPERSET_ADMIN_PASSWORD"
fi
echo "bootstrap: superset init"
superset init
echo "bootstrap: importing the Chirpstream dashboard"
"$PYTHON" "$HERE/bundle.py" --source "$HERE/dashboard" --output "$HOME_DIR/chirpstream-dashboard.zip"
superset import-dashboards -p "$HOME_DIR/chirpstream-dashboard.zip" -u "$ADMIN"
if [ -n "${DRUID_DATABASE_URI:-}" ]; then
  echo "bootstrap: registering Druid"
  superset set-database-uri --database_name Druid --uri "$DRUID_DATABASE_URI"
fi
"$PYTHON" "$HERE/grant_public.py"
echo "bootstrap: done"
if [ $# -gt 0 ]; then exec "$@"; fi
