"""The Hierarchies API: hierarchies, their nodes and the products linked to nodes."""
