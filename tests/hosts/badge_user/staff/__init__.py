"""A user model with a required, unique badge number that only the host can give."""
