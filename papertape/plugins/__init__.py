"""Built-in plugins: sizers, shields and the journal, registered explicitly by the engine."""
