"""The Integrations API: webhooks told of job events, their deliveries and logs."""
