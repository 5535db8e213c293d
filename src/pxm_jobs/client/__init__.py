"""The command-line client: `pxm-jobs import`, `export`, `duplicate`, `jobs ...`.

It talks to a running service over HTTP only, as any script with the store's keys would, and
imports nothing of the service's own layers.
"""
