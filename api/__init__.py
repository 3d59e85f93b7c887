"""The interfaces: the `kyso` command line (and, later, the HTTP API and web UI).

The composition root: the only package that reads settings and the environment.
"""

__all__: list[str] = []
