"""The partner feeds and hash lists: what partners fetch and what operators export or import."""
