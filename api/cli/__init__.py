"""The ``kyso`` command line (entry point :func:`api.cli.main.main`), one module per
group of commands; ``kyso serve`` is :mod:`api.cli.serve`."""

__all__: list[str] = []
