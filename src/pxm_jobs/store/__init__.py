"""Storage: the engine, the tables, migrations and blobs. Everything else reaches the database here."""
