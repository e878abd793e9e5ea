"""Spatial plumbing with no planning words: reading, validating, projecting, tessellating,
exporting."""
