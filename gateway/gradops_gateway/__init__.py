"""The gateway: partners' front door. Routes /api/v1 to the owning service and serves merged docs."""
