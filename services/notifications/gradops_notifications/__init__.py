"""Notifications service: webhooks to partners and the student timeline, both fed by the services'
events (split out of the gateway, which keeps routing, authentication and limits only)."""
