"""microexpression pipeline."""
