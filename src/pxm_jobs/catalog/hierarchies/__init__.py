"""Hierarchies and their trees of nodes: rules, queries, product links and copies."""
