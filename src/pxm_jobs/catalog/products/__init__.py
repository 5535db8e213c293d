"""Products: rules, queries, writes, and the CSV files they are imported from and exported to."""
