"""pfe pipeline."""
