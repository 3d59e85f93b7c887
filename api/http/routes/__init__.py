"""HTTP routes, one router per resource, assembled in :mod:`api.http.app`."""
