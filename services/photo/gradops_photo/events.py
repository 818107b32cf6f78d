"""The photo service consumes no events yet; it emits PhotoSubmitted/Approved/Rejected."""

CONSUMES: tuple[str, ...] = ()
