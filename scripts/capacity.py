#!/usr/bin/env python3
"""The capacity model of docs/scaling.md, as a calculation anyone can rerun with new measurements.

Usage:
  scripts/capacity.py                      the model with the figures measured in docs/benchmarks.md
  scripts/capacity.py --cpu "bridge 14 µs, categorizer 11 µs, ..."
                                           CPU per tweet as `make bench` prints it ("CPU per tweet:" line)
  scripts/capacity.py --check WALL         also compare the model's ceiling on this machine's cores with
                                           a measured end-to-end rate (tweets/s)

What is measured (by `make bench` and `make bench-store` on this 2-core machine) and what is
assumed (marked ASSUMED below) is kept apart: the per-tweet costs and one instance's rate are
measured; the headroom, Kafka's per-partition rate and replication are choices an operator makes.
"""
import argparse
import math
import os
import re

# Measured: `make bench`, 2026-12-05 (docs/benchmarks.md), µs of CPU per tweet, v2 corpus.
CPU_US = {"sender": 12, "bridge": 14, "categorizer": 11, "loader": 8, "mosquitto": 15, "kafka": 11, "postgres": 30}
# Measured: each stage alone draining a backlog (`make bench`, 2026-12-04 night), tweets/s of one instance.
INSTANCE_RATE = {"bridge": 39_508, "categorizer": 102_069, "loader": 32_384}
# Measured: `make bench-store` (2026-12-05 late evening, schema 12), 10 M tweets within 90 minutes: bytes on disk per tweet, every
# table and index.
STORE_BYTES = 1_232
RAW_JSON_BYTES = 303          # measured: the v2 corpus's mean line
ENRICHED_BYTES = 877          # measured on tweets.enriched: value 419, headers 438 (the raw payload among them), key 19
HEADROOM = 0.6                # ASSUMED: run every part at 60 % of what it can do, for bursts and a lost node
KAFKA_PARTITION_MB_S = 10     # ASSUMED: what one partition of a real Kafka takes comfortably (MB/s in)
REPLICATION = 3               # ASSUMED: production Kafka replication factor


def parse_cpu(line):
    found = dict((name, float(value)) for name, value in re.findall(r"([a-z@0-9]+) (\d+(?:\.\d+)?) µs", line))
    return {k: found[k] for k in CPU_US if k in found} or CPU_US


def plan(rate, cpu):
    """What `rate` tweets/s needs, part by part."""
    p = {}
    for service in ("bridge", "categorizer", "loader"):
        by_rate = rate / (HEADROOM * INSTANCE_RATE[service])
        by_cpu = rate * cpu[service] / 1e6 / HEADROOM
        p[service] = max(1, math.ceil(max(by_rate, by_cpu)))
    raw_mb = rate * RAW_JSON_BYTES / 1e6
    enriched_mb = rate * ENRICHED_BYTES / 1e6
    p["partitions"] = max(p["categorizer"], p["loader"], math.ceil(enriched_mb / KAFKA_PARTITION_MB_S))
    p["kafka_in_mb_s"] = (raw_mb + enriched_mb) * REPLICATION
    p["kafka_cores"] = rate * cpu["kafka"] / 1e6 / HEADROOM
    p["mosquitto_cores"] = rate * cpu["mosquitto"] / 1e6 / HEADROOM
    p["mosquitto_brokers"] = max(1, math.ceil(p["mosquitto_cores"]))  # mosquitto runs on one core
    p["postgres_cores"] = rate * cpu["postgres"] / 1e6 / HEADROOM
    p["postgres_mb_s"] = rate * STORE_BYTES / 1e6
    p["postgres_tb_day"] = rate * STORE_BYTES * 86_400 / 1e12
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", help="a 'CPU per tweet:' line of make bench")
    parser.add_argument("--check", type=float, help="a measured end-to-end rate on this machine (tweets/s)")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    args = parser.parse_args()
    cpu = parse_cpu(args.cpu) if args.cpu else CPU_US

    total = sum(cpu.values())
    servers = cpu["mosquitto"] + cpu["kafka"] + cpu["postgres"]
    print(f"CPU per tweet (µs): " + ", ".join(f"{k} {v:g}" for k, v in cpu.items()) + f"; total {total:g}")
    ceiling = args.cores * 1e6 / total
    print(f"one machine of {args.cores} cores, everything on it: ceiling {ceiling:,.0f} tweets/s "
          f"(the servers alone would allow {args.cores * 1e6 / servers:,.0f})")
    if args.check:
        print(f"  measured {args.check:,.0f} tweets/s: {100 * args.check / ceiling:.0f} % of the model's ceiling")
    print()
    rates = (10_000, 100_000, 1_000_000)
    rows = [
        ("bridge instances", "bridge", "{:.0f}"),
        ("categorizer instances", "categorizer", "{:.0f}"),
        ("loader instances", "loader", "{:.0f}"),
        ("partitions per topic", "partitions", "{:.0f}"),
        ("Kafka bytes in, replicated (MB/s)", "kafka_in_mb_s", "{:,.0f}"),
        ("Kafka broker cores", "kafka_cores", "{:.1f}"),
        ("MQTT broker cores", "mosquitto_cores", "{:.1f}"),
        ("MQTT brokers (one core each)", "mosquitto_brokers", "{:.0f}"),
        ("PostgreSQL cores (writes)", "postgres_cores", "{:.1f}"),
        ("PostgreSQL writes (MB/s, before WAL)", "postgres_mb_s", "{:,.0f}"),
        ("PostgreSQL growth (TB/day)", "postgres_tb_day", "{:.1f}"),
    ]
    plans = [plan(r, cpu) for r in rates]
    width = max(len(r[0]) for r in rows)
    print(f"{'tweets/s':<{width}}  " + "  ".join(f"{r:>10,}" for r in rates))
    for label, key, fmt in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{fmt.format(p[key]):>10}" for p in plans))


if __name__ == "__main__":
    main()
