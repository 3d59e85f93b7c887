"""The program on the official's PC (``kyso agent``): signs digests on the USB token.

Imports nothing server-side (no FastAPI, SQLAlchemy, Celery, ``documents``, settings).
"""

__all__: list[str] = []
