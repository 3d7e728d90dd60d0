"""Private helpers of the command line (netbasics.cli): bulk classification and Unix endpoints."""
