"""What the API takes and gives: pydantic models by resource, apart from the domain's classes.

Import from the module of the resource (``api.schemas.tickets``, ...); this package
re-exports nothing. Closed sets of values come from :mod:`domain.vocabulary`.
"""
