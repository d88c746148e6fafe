#!/usr/bin/env python3
"""Container healthcheck: exit 0 when Superset's /health answers 200 (a file, so the compose
healthcheck has no argument with spaces, which some engines split)."""
import sys
import urllib.request

try:
    with urllib.request.urlopen("http://localhost:8088/health", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    print(f"healthcheck: {error}", file=sys.stderr)
    sys.exit(1)
