#!/usr/bin/env python3
"""Gives Superset's Public role read access to the Chirpstream datasets (datasource_access), so
the dashboard can be viewed without logging in; does nothing unless the configuration makes the
dashboard public (AUTH_ROLE_PUBLIC, see superset_config.py)."""
import sys

from superset.app import create_app

app = create_app()
with app.app_context():
    from superset import db, security_manager
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    public_role_name = app.config.get("AUTH_ROLE_PUBLIC")
    if not public_role_name:
        print("grant_public: dashboard is not public, nothing to grant")
        sys.exit(0)
    role = security_manager.find_role(public_role_name)
    database = db.session.query(Database).filter_by(database_name="Chirpstream").one_or_none()
    if role is None or database is None:
        print(f"grant_public: role {public_role_name} or database Chirpstream missing", file=sys.stderr)
        sys.exit(1)
    granted = 0
    for dataset in db.session.query(SqlaTable).filter_by(database_id=database.id):
        permission = security_manager.add_permission_view_menu("datasource_access", dataset.get_perm())
        security_manager.add_permission_role(role, permission)
        granted += 1
    db.session.commit()
    print(f"grant_public: {public_role_name} may read {granted} Chirpstream datasets")
