"""The benchmark suite: what a replication costs, and how the cost scales.

Analysts explore by running thousands of replications, so the simulator should cost
close to what the SimPy engine itself costs and scale with cores. One command,

    python -m bench            (or: python bench/run.py)

measures, in one process on this machine, and writes ``bench/results.json`` plus a
printed table (``--quick`` is a smoke run of a few seconds that writes to
``bench/out/``; ``--report`` prints the README's Performance table from a results
file without measuring anything):

1. **engine reference** — wall time of 100,000 bare SimPy timeouts (10 processes ×
   10,000), the engine's own floor on this machine (:func:`bench.measures.engine_reference`);
2. **baseline replication** — wall time of one replication of the baseline scenario
   (median over replications, measured interleaved with the engine reference so both
   see the same machine load), the SimPy events it processed, and its cost as a
   ratio to the engine reference;
3. **throughput** — replications per second through the path of ``siege run
   --workers N`` (:func:`sim.experiment.replicate.iter_replications` and
   :func:`sim.analysis.metrics.replication_metrics`) with 1 and 2 workers, and the
   parallel efficiency; plus, in the full run, ``siege run --replications 1000
   --workers 2`` itself, timed end to end in a subprocess;
4. **scaling** — one replication with the horizon ×1, ×2, ×4 (the calendar extended,
   events where they are) and with the fleets ×1, ×2, ×4 (``aircraft`` multiplied):
   time ratios, which should grow linearly;
5. **memory** — peak resident memory (all processes of the run together) of a
   2,000-run ``siege sweep`` against a 200-run one, each in a subprocess;
6. **validation** — loading the scenario with 2,500, 5,000 and 10,000 generated
   events added (what ``siege validate`` does, the timeline included): the time, and
   its ratio when the events double, which should stay near 2 (linear).

Every measure is set against the targets for the 2-core development machine
(:data:`bench.report.TARGETS`).
Times are seconds unless a key says ``_ms``; memory is MiB.
"""
