"""`make compat`: Elastic Path's own JavaScript SDK against a live service."""
