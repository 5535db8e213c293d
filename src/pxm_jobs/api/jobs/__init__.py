"""The Jobs API: routes, schemas, filters, long-polls and the rendering of jobs."""
