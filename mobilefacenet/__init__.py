"""mobilefacenet pipeline."""
