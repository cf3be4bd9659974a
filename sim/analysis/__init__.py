"""From replications to findings: per-replication metrics, percentiles and intervals,
and the comparison of every run with the historical record (observations)."""
