"""``python -m sim`` is the ``siege`` command; :func:`run` starts it (the console script).

Until the command sets its own handlers, a Ctrl-C keeps the operating system's default
action: the process ends at once, silently (a shell reports status 130), as any
command does. Python's own default would raise ``KeyboardInterrupt`` in the middle of
the imports (a third of a second at start-up) and print a traceback. Nothing has been
written by then. :func:`sim.cli.main` makes Ctrl-C raise again before it runs a
command, and handles it there.
"""

import signal


def run() -> None:
    """The ``siege`` command: the default action for Ctrl-C while it starts, then
    :func:`sim.cli.entry` (imported only now: the import is the start-up it covers)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    from sim.cli import entry

    entry()


if __name__ == "__main__":
    run()
