"""The host's own user model: signs in by email, has no first or last name."""
