"""The job queue: every state change of a job, and the worker loop that runs them."""
