"""What the benchmarks poll: the documents at a status, through the paged list."""

from __future__ import annotations

from typing import Any


def at_status(client: Any, status: str) -> set[str]:
    """The ids of the caller's documents now at ``status`` (``GET /api/v1/documents``,
    filtered by status, page after page): what a poll asks, as cheap as the few documents
    at that status, however many the body holds."""
    found: set[str] = set()
    cursor = None
    while True:
        answer = client.get("/api/v1/documents", params={
            "status": status, "limit": 200, **({"before": cursor} if cursor else {})})
        answer.raise_for_status()
        found |= {d["id"] for d in answer.json()}
        cursor = answer.headers.get("X-Next-Cursor")
        if cursor is None:
            return found
