"""The engine: units, partition, boundaries and the measures of a plan's shape."""
