"""UdaConnect ingest consumer: reads accepted writes from Kafka and stores them through the persistence service."""
