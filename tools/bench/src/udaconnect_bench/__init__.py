"""``make bench``: UdaConnect's connection and ingest speed, measured against the legacy algorithm and COPY."""
