"""covpoolfer pipeline."""
