"""Delivering job events to the stores' webhooks: the workers' couriers and how they post."""
