# Superset settings for Chirpstream (SUPERSET_CONFIG_PATH points here). Everything secret or
# deployment-specific comes from the environment, so the same file serves the compose image and
# the dashboard test's virtualenv.
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Superset's own metadata (users, charts, dashboards): SQLite in SUPERSET_HOME unless
# SUPERSET_METADATA_URI names another database.
_home = os.environ.get("SUPERSET_HOME", "/app/superset_home")
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "SUPERSET_METADATA_URI", f"sqlite:///{os.path.join(_home, 'superset.db')}"
)

# Relative time ranges ("Last day") end now, not at midnight: the dashboards show live data.
DEFAULT_RELATIVE_START_TIME = "now"
DEFAULT_RELATIVE_END_TIME = "now"

# Everything needs a login unless SUPERSET_PUBLIC_DASHBOARD=true. Then a visitor who is not
# logged in gets the Public role: Superset's minimal set for viewing dashboards (no SQL Lab, no
# database or user listing, nothing written) plus read access to Chirpstream's datasets only
# (grant_public.py), whatever the role held before.
if os.environ.get("SUPERSET_PUBLIC_DASHBOARD", "false").lower() in ("1", "true", "yes"):
    AUTH_ROLE_PUBLIC = "Public"
    PUBLIC_ROLE_LIKE = "Public"

# Charts ask PostgreSQL every time (auto-refresh every 10 s): no result cache.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Security headers (Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, Referrer-
# Policy) with Superset's own policy, which does not force HTTPS: it is served over plain HTTP on
# localhost by default; put a TLS proxy in front to expose it.
TALISMAN_ENABLED = os.environ.get("TALISMAN_ENABLED", "true").lower() == "true"
# Session cookies not readable by scripts and not sent along with other sites' requests.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_ENABLED = True
SQLLAB_CTAS_NO_LIMIT = True
CONTENT_SECURITY_POLICY_WARNING = False
