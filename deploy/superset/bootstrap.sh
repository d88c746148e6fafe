#!/bin/bash
# Provisions Superset for Chirpstream, then runs the given command (the server) if any:
# metadata database upgrade, the admin user from the environment, roles and permissions, the
# dashboard bundle built from dashboard/ and imported (replacing an earlier import), Druid as a
# second database when DRUID_DATABASE_URI is set, and read access for the Public role when the
# dashboard is public. Idempotent: it runs at every container start, and sets the admin's
# password from SUPERSET_ADMIN_PASSWORD each time (change the secret and restart to rotate it).
# An empty secret or a placeholder from .env.example (change-me…) stops it, naming the variable.
#
# Environment: SUPERSET_CONFIG_PATH (superset_config.py), SUPERSET_SECRET_KEY, CHIRP_DATABASE_URI
# (read-only role), SUPERSET_ADMIN_USER (admin), SUPERSET_ADMIN_PASSWORD, SUPERSET_HOME,
# optional DRUID_DATABASE_URI, SUPERSET_PUBLIC_DASHBOARD (false).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
refuse() { echo "bootstrap: $1" >&2; exit 1; }
for name in SUPERSET_SECRET_KEY SUPERSET_ADMIN_PASSWORD CHIRP_DATABASE_URI; do
  [ -n "${!name:-}" ] || refuse "$name is empty: set it (see .env.example)"
  case "${!name,,}" in change-me*) refuse "$name is a placeholder ('change-me…'): set a real secret" ;; esac
done
# The password inside the database URI (between the user's colon and the @).
uri_password=$(printf '%s' "$CHIRP_DATABASE_URI" | sed -n 's#^[^:]*://[^:@/]*:\([^@]*\)@.*#\1#p')
case "${uri_password,,}" in change-me*) refuse "CHIRP_DATABASE_URI holds a placeholder password ('change-me…'): set a real secret" ;; esac
ADMIN="${SUPERSET_ADMIN_USER:-admin}"
HOME_DIR="${SUPERSET_HOME:-/app/superset_home}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$HOME_DIR"

echo "bootstrap: superset db upgrade"
superset db upgrade
echo "bootstrap: superset init"
superset init
"$PYTHON" "$HERE/admin_user.py"
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
