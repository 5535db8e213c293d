"""A store's integrations: webhooks told of its job events, where they may post, their logs."""
