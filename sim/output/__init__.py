"""Result files: the run folder (written atomically), its CSV/JSON/TOML files, the
plots, and the console summary. Nothing here runs the model."""
