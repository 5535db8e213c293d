"""The Products API: routes, schemas and rendering."""
