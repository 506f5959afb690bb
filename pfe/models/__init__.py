"""PFE networks: the sphere-net base and the uncertainty head."""
