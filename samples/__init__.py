"""The synthetic sample district (households, 街道, roads, facilities) for trying the tool."""
