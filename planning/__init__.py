"""The domain: units, partition, standards, scenarios, metrics, project store, command line."""
