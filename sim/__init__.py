"""siege-sim: a discrete-event simulator of a besieged enclave kept alive from the air."""

__version__ = "0.1.0"
