#!/usr/bin/env python3
"""Django's command-line utility for the gcverify demo login site."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "login_site.settings")
    if not os.environ.get("GCVERIFY_LOGIN_SITE_DB", "").strip():
        sys.exit(
            "login_site: GCVERIFY_LOGIN_SITE_DB is not set: set it to the path of "
            "the SQLite database file (e.g. /tmp/login_site.sqlite3)"
        )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
