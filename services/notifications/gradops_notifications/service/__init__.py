"""Use cases of notifications: they take the edge's session, go through the repository, apply the
domain's rules and flush, never commit (the edge: a request, a consumed event, a worker's batch)."""
