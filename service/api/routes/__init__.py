"""HTTP routes: thin functions that validate, call one service method, and shape the reply."""
