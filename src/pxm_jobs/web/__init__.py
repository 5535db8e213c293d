"""The jobs pages at /admin/: server-rendered, and a client of the public API like any other.

Every page and every button makes the same API request a script with the store's token would,
in process, so a page can do nothing a token cannot.
"""
