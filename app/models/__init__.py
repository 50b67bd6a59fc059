"""Records, the schema and its migrations, and small functions that run SQL. No role checks."""
