"""Plans: a plan and its numbering, scenarios of edits, rebalancing, comparison, the project file and plan folders."""
