"""closeflow."""
