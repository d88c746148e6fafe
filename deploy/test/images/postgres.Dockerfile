# Stand-in for postgres:15 in the compose test: Debian's PostgreSQL 15 and an entrypoint doing
# what the official one does (initdb with POSTGRES_USER/POSTGRES_PASSWORD, the scripts in
# /docker-entrypoint-initdb.d on an empty data folder, then the server on all addresses, with the
# command's settings), as the official image's uid (999), to which tls-setup gives the server's key.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && usermod -u 999 postgres \
 && mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d /var/run/postgresql \
 && chown -R postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["/bin/bash", "/usr/local/bin/postgres-entrypoint.sh"]
