"""Pure rules of notifications: who hears of which event, the delivery schedule, signatures, which
addresses a webhook may reach, what a timeline line says. No I/O here."""
