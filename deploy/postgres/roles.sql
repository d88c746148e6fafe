-- Chirpstream's database roles and database, for psql as a superuser. Safe to run again: it
-- creates what is missing and sets every password anew (that is how a password is rotated).
-- Variables (psql \set or -v): owner_pw, writer_pw, reader_pw.
--
--   chirp         owns the database and the schema; only `chirp migrate` and `chirp recompute`
--                 log in as it
--   chirp_writer  the loader: adds rows, never changes the schema, never deletes or rewrites a
--                 stored tweet (the grants themselves come from `chirp migrate`)
--   chirp_reader  the chirp CLI's questions and Superset: reads facts and rollups only, one
--                 statement at most 30 s, read-only transactions
--
-- Passwords are stored as SCRAM-SHA-256 (PostgreSQL 15's default password_encryption).
\set ON_ERROR_STOP on
SET password_encryption = 'scram-sha-256';

SELECT format('CREATE ROLE %I', name) FROM unnest(ARRAY['chirp', 'chirp_writer', 'chirp_reader']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE chirp WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 8 PASSWORD :'owner_pw';
ALTER ROLE chirp_writer WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 32 PASSWORD :'writer_pw';
ALTER ROLE chirp_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 20 PASSWORD :'reader_pw';
ALTER ROLE chirp_reader SET statement_timeout = '30s';
ALTER ROLE chirp_reader SET default_transaction_read_only = on;

SELECT 'CREATE DATABASE chirp OWNER chirp ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chirp') \gexec
ALTER DATABASE chirp OWNER TO chirp;
-- Nobody else connects; the writer may also make the session's staging tables.
REVOKE ALL ON DATABASE chirp FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE chirp TO chirp_writer;
GRANT CONNECT ON DATABASE chirp TO chirp_reader;

\connect chirp
-- Only the owner creates objects (PostgreSQL 15's default; older clusters granted it to all).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
