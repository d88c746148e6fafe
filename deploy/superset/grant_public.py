#!/usr/bin/env python3
"""The Public role (what a visitor who is not logged in gets). When the dashboard is public
(superset_config.py sets PUBLIC_ROLE_LIKE = "Public", and `superset init` has given the role
Superset's minimal viewing set), it also gets read access to the Chirpstream datasets
(datasource_access), and to nothing else. When it is not, the role is emptied: a deployment that
was public before keeps no anonymous access."""
import sys

from superset.app import create_app

app = create_app()
with app.app_context():
    from superset import db, security_manager
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    role_name = app.config.get("AUTH_ROLE_PUBLIC") or "Public"
    role = security_manager.find_role(role_name)
    if app.config.get("PUBLIC_ROLE_LIKE") != "Public":
        if role is not None:
            role.permissions = []
            db.session.commit()
        print(f"grant_public: the dashboard needs a login; role {role_name} holds no permission")
        sys.exit(0)
    database = db.session.query(Database).filter_by(database_name="Chirpstream").one_or_none()
    if role is None or database is None:
        print(f"grant_public: role {role_name} or database Chirpstream missing", file=sys.stderr)
        sys.exit(1)
    granted = 0
    for dataset in db.session.query(SqlaTable).filter_by(database_id=database.id):
        permission = security_manager.add_permission_view_menu("datasource_access", dataset.get_perm())
        security_manager.add_permission_role(role, permission)
        granted += 1
    db.session.commit()
    print(f"grant_public: {role_name} may view the dashboard and read {granted} Chirpstream datasets")
