# Stand-in for apache/superset:6.1.0 in the compose test: Superset 6.1.0 from PyPI in /app/.venv,
# /usr/bin/run-server.sh, uid 1000 — what deploy/superset/Dockerfile expects of its base, which
# the test then builds on top of this. PIP_CERT: pip inside `podman build` trusts the host's CA
# bundle, mounted by the test at /run/host-ca.crt.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --create-home --home-dir /app superset
ENV PIP_CERT=/run/host-ca.crt PATH=/app/.venv/bin:$PATH
COPY requirements-lock.txt /tmp/requirements-lock.txt
RUN python3 -m venv /app/.venv \
 && /app/.venv/bin/pip install --no-cache-dir -q --require-hashes -r /tmp/requirements-lock.txt \
 && mkdir -p /app/superset_home && chown -R superset /app
RUN printf '#!/bin/bash\nexec gunicorn --bind 0.0.0.0:8088 --workers 2 --threads 8 --timeout 120 "superset.app:create_app()"\n' > /usr/bin/run-server.sh \
 && chmod 755 /usr/bin/run-server.sh
USER 1000
WORKDIR /app
CMD ["/usr/bin/run-server.sh"]
