"""The HTTP service: the FastAPI application (:func:`api.http.app.create_app`), its
dependencies, errors, CSRF and body limits, and one router per resource in ``routes/``."""

__all__: list[str] = []
