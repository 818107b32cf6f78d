"""Webhooks: partners register a URL and event types; the gateway's worker turns the services'
events into signed deliveries, retried with exponential backoff for 24 hours and logged."""
