"""UdaConnect location API: accepts pings onto Kafka (202 after the broker's ack); reads them back."""
