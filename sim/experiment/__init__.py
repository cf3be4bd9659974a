"""Many runs: replications in parallel, parameter sweeps and designs, executors, the store."""
