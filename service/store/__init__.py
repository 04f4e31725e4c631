"""The repository layer: every database read and write the routes need, one transaction per call.

Routes never touch a session; they call these classes, which own their transactions.
"""
