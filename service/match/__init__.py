"""Matching: from a platform's query (hashes or an uploaded image) to recorded hits."""
