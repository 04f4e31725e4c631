"""The HTTP edge: routes, request and response schemas, error replies, body and header limits."""
