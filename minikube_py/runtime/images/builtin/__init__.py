"""The built-in images' programs: small Python scripts run with the host interpreter.

Each module is a complete program (``python -m`` or run as a file copied into an image root);
it binds ``$POD_IP`` (127.0.0.1 when absent) and exits cleanly on SIGTERM, as a well-behaved
container process should.
"""
