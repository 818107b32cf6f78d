"""The composition root: the only package that knows every service.

It assembles the embedded default (all services in one process), launches the real stack (each
service, relay, consumer and the gateway as its own process) and exports the OpenAPI specs.
"""
