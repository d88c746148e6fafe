#!/usr/bin/env python3
"""Creates Superset's admin user (SUPERSET_ADMIN_USER, default admin) if missing, and sets its
password from SUPERSET_ADMIN_PASSWORD at every start: the secret is the one source of the
password, so changing it and restarting rotates it. Read from the environment, never from a
command line another process could see."""
import os

from superset.app import create_app

app = create_app()
with app.app_context():
    from superset import security_manager

    name = os.environ.get("SUPERSET_ADMIN_USER", "admin")
    password = os.environ["SUPERSET_ADMIN_PASSWORD"]
    user = security_manager.find_user(username=name)
    if user is None:
        admin = security_manager.find_role("Admin")
        security_manager.add_user(name, "Chirpstream", "Admin", f"{name}@chirpstream.invalid", admin, password=password)
        print(f"admin_user: created {name}")
    else:
        security_manager.reset_password(user.id, password)
        print(f"admin_user: password of {name} set from SUPERSET_ADMIN_PASSWORD")
