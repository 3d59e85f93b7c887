"""Alembic environment of the ``documents`` tables (run by :func:`documents.upgrade_database`)."""
