#!/bin/bash
# The subset of kafka-topics.sh that deploy/kafka/create-topics.sh uses, through Tansu's client.
set -euo pipefail
server=localhost:9092; topic=""; partitions=1; action=""; if_not_exists=false
while [ $# -gt 0 ]; do
  case "$1" in
    --bootstrap-server) server=$2; shift 2 ;;
    --topic) topic=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --replication-factor) shift 2 ;;
    --create) action=create; shift ;;
    --describe) action=describe; shift ;;
    --if-not-exists) if_not_exists=true; shift ;;
    *) echo "kafka-topics.sh (test stand-in): unsupported $1" >&2; exit 2 ;;
  esac
done
existing=$(/usr/local/bin/tansu topic list --broker "tcp://$server")
case "$action" in
  create)
    if $if_not_exists && grep -qw -- "$topic" <<<"$existing"; then echo "exists: $topic"; exit 0; fi
    /usr/local/bin/tansu topic create "$topic" --partitions "$partitions" --broker "tcp://$server"
    echo "created: $topic ($partitions partitions)" ;;
  describe) echo "$existing" ;;
  *) echo "kafka-topics.sh (test stand-in): no action" >&2; exit 2 ;;
esac
