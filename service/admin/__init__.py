"""`hashbank-admin`: the operator's command line."""
