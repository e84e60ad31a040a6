"""The performance harness (issue 12): ``make bench``; see docs/PERFORMANCE.md."""
