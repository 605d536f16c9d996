"""Built-in plugins (the instruments, and the Excel and JSON outputs), registered exactly like
third-party ones (see ``evaltool.instruments.registry``)."""
