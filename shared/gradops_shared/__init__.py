"""GradOps common library: plumbing every service shares. No business rules live here."""
