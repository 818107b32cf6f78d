"""The photo service consumes no events: it asks the registry over HTTP when it needs a student
(signed with the caller's reach). It emits PhotoSubmitted, PhotoApproved, PhotoRejected,
PhotoReopened, PhotoChsiStatusChanged and PhotoProofread through its outbox."""

CONSUMES: tuple[str, ...] = ()
