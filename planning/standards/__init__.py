"""Standards: the rules as data, the compliance check, and its report."""
