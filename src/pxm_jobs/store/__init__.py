"""Storage: engine, tables, migrations and blobs; the only layer that talks to the database."""
