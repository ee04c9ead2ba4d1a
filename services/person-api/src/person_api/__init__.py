"""UdaConnect person API: lists and reads persons; accepts new ones onto Kafka (202 after the broker's ack)."""
