"""UdaConnect persistence service: the only writer to PostgreSQL+PostGIS, over gRPC. Owns the migrations."""
