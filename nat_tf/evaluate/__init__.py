"""Training a derived architecture from scratch, and exporting finished runs."""
