"""This worker's in-memory indexes and the change-log follower that keeps them in step."""
