"""The ways into Docket: the FastAPI app and the ``docket`` command line.

Thin by design: parse, authorise, call one application method, map errors.
"""
