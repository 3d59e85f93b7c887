"""The Celery wiring: the app a worker runs (``celery -A api.worker.app``), the runtime
it builds from the settings (:mod:`api.worker.runtime`), remote (hash-only) signing."""

__all__: list[str] = []
