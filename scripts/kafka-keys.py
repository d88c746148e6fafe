"""Prints how many distinct record keys each topic holds, reading it whole from the start
(the fault matrix's check of what the Kafka broker kept). Usage: kafka-keys.py BROKERS TOPIC..."""
import sys

from confluent_kafka import Consumer, TopicPartition

brokers, topics = sys.argv[1], sys.argv[2:]
for topic in topics:
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"chaos-keys-{topic}", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 3})
    metadata = consumer.list_topics(topic, timeout=10)
    consumer.assign([TopicPartition(topic, p, 0) for p in metadata.topics[topic].partitions])
    keys, idle = set(), 0
    while idle < 10:
        batch = consumer.consume(1000, timeout=0.5)
        idle = 0 if batch else idle + 1
        keys.update(m.key() for m in batch if not m.error())
    consumer.close()
    print(len(keys))
