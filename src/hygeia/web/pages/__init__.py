"""Console pages, one module per area; each imports its domain only inside its handlers."""
