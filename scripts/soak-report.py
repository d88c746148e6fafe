#!/usr/bin/env python3
"""make soak's verdict and figure: reads soak-sample.py's CSV, prints each goal with its measurement,
draws one panel per quantity into a PNG (matplotlib, from scripts/requirements/plot.txt).

Usage: soak-report.py CSV PNG ACKNOWLEDGED ROWS QUEUED [TITLE]
QUEUED is what was still on its way when the drain gave up (mosquitto's queue for the bridge and
the records unread on each topic): not lost, but not shown to arrive either.
Exits 1 when a goal is missed, so that `make soak` fails visibly.

Goals (issue 20): the RSS of every service flat after warm-up, growth under 5 % over the last
20 minutes (the median of its first minute against the median of the run's last minute); p99
publish → queryable under 1 s in every interval; the lag bounded (its largest value in the second
half no more than in the first half, or under one second of input); zero lost (the rows in the
store equal the tweets the broker acknowledged to the sender, with nothing left queued).
"""
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERVICES = ["sender", "bridge", "categorizer", "loader"]
SERVERS = ["mosquitto", "kafka", "postgres"]


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def main():
    path, png, acknowledged, rows, queued = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    title = sys.argv[6] if len(sys.argv) > 6 else "make soak"
    with open(path) as f:
        data = list(csv.DictReader(f))
    col = {key: [number(r[key]) for r in data] for key in data[0]}
    t = col["elapsed_s"]
    duration = t[-1]
    window = min(1200.0, duration * 2 / 3)  # the last 20 minutes; two thirds of a shorter run
    w0 = duration - window
    failures = []

    def median_between(key, lo, hi):
        values = [v for x, v in zip(t, col[key]) if lo <= x <= hi and v is not None]
        return statistics.median(values) if values else None

    rate = statistics.mean(v for v in col["loaded_per_s"] if v is not None)
    print(f"soak: {duration / 60:.1f} min, loaded {rate:,.0f} tweets/s on average, "
          f"sent {statistics.mean(v for v in col['sent_per_s'] if v is not None):,.0f}")

    print(f"RSS over the last {window / 60:.0f} min (median of its first minute → of the last minute; goal: growth under 5 %):")
    for name in SERVICES + SERVERS:
        first = median_between(f"{name}_rss_mb", w0, w0 + 60)
        last = median_between(f"{name}_rss_mb", duration - 60, duration)
        peak = max(v for v in col[f"{name}_rss_mb"] if v is not None)
        if not first or last is None:
            continue
        growth = 100 * (last - first) / first
        verdict = ""
        if name in SERVICES:
            verdict = "ok" if growth < 5 else "MISSED"
            if growth >= 5:
                failures.append(f"{name} RSS grew {growth:.1f} %")
        print(f"  {name:<12} {first:8.1f} → {last:8.1f} MB ({growth:+.1f} %), peak {peak:.1f} MB {verdict}")

    p99 = [(x, v) for x, v in zip(t, col["latency_p99_ms"]) if v is not None]
    worst = max(p99, key=lambda p: p[1])
    # An interval in which tweets were sent but no row was loaded has no latency: it is a stall.
    stalls = [x for x, sent, loaded in zip(t, col["sent_per_s"], col["loaded_per_s"]) if sent and not loaded]
    if stalls:
        print(f"intervals with tweets sent and no row loaded: {len(stalls)}, the first at {stalls[0]:.0f} s MISSED")
        failures.append(f"{len(stalls)} intervals without a loaded row")
    p50 = [v for v in col["latency_p50_ms"] if v is not None]
    print(f"latency publish → queryable: p50 median {statistics.median(p50):.0f} ms; "
          f"p99 median {statistics.median(v for _, v in p99):.0f} ms, worst interval {worst[1]:.0f} ms at {worst[0]:.0f} s "
          f"(goal: every interval under 1000 ms) {'ok' if worst[1] < 1000 else 'MISSED'}")
    if worst[1] >= 1000:
        failures.append(f"p99 {worst[1]:.0f} ms at {worst[0]:.0f} s")

    half = duration / 2
    for key in ("bridge_backlog", "categorizer_lag", "loader_lag"):
        first = max((v for x, v in zip(t, col[key]) if x <= half and v is not None), default=0)
        second = max((v for x, v in zip(t, col[key]) if x > half and v is not None), default=0)
        bounded = second <= max(first, rate)
        print(f"  {key:<16} largest {first:,.0f} in the first half, {second:,.0f} in the second "
              f"(goal: bounded) {'ok' if bounded else 'MISSED'}")
        if not bounded:
            failures.append(f"{key} grew to {second:,.0f}")

    missing = acknowledged - rows
    lost = missing - queued
    print(f"rows in the store {rows:,} of {acknowledged:,} acknowledged to the sender; "
          f"still queued when the drain ended {queued:,}; unaccounted for {lost:,}")
    if lost != 0:
        failures.append(f"{lost:,} unaccounted for")
    if queued > 0:
        failures.append(f"the drain did not finish ({queued:,} still queued)")

    draw(col, t, png, title, w0)
    print(f"figure: {png}")
    if failures:
        print("soak: goals missed: " + "; ".join(failures))
        sys.exit(1)


def draw(col, t, png, title, w0):
    minutes = [x / 60 for x in t]
    fig, axes = plt.subplots(3, 2, figsize=(13, 11), sharex=True)
    fig.suptitle(title)

    ax = axes[0][0]
    ax.plot(minutes, col["sent_per_s"], label="sent (acknowledged)", lw=0.8)
    ax.plot(minutes, col["loaded_per_s"], label="loaded", lw=0.8)
    ax.set_ylabel("tweets/s")
    ax.set_title("throughput")
    ax.legend(loc="lower right")

    ax = axes[0][1]
    ax.plot(minutes, col["latency_p50_ms"], label="p50", lw=0.8, marker=".", ms=2)
    ax.plot(minutes, col["latency_p99_ms"], label="p99", lw=0.8, marker=".", ms=2)
    ax.axhline(1000, color="red", lw=0.6, ls="--", label="goal (p99)")
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title("publish → queryable")
    ax.legend(loc="upper right")

    ax = axes[1][0]
    for name in SERVICES:
        ax.plot(minutes, col[f"{name}_rss_mb"], label=name, lw=0.8)
    ax.axvline(w0 / 60, color="grey", lw=0.6, ls=":")
    ax.set_ylabel("MB")
    ax.set_title("services' resident memory (dotted: start of the last 20 min)")
    ax.legend(loc="upper left")

    ax = axes[1][1]
    for name in SERVICES + SERVERS:
        ax.plot(minutes, col[f"{name}_cpu_pct"], label=name, lw=0.6)
    ax.set_ylabel("% of one core")
    ax.set_title("CPU")
    ax.legend(loc="upper left", ncol=2, fontsize="small")

    ax = axes[2][0]
    for key, label in (("bridge_backlog", "MQTT → Kafka (bridge)"), ("categorizer_lag", "categorizer"),
                       ("loader_lag", "loader")):
        ax.plot(minutes, col[key], label=label, lw=0.8)
    ax.set_ylabel("records")
    ax.set_title("backlog and consumer lag")
    ax.legend(loc="upper left")
    ax.set_xlabel("minutes")

    ax = axes[2][1]
    ax.plot(minutes, [v / 1024 if v is not None else None for v in col["postgres_mb"]], label="database", lw=0.8)
    ax.plot(minutes, [v / 1024 if v is not None else None for v in col["kafka_rss_mb"]], label="Kafka broker RSS (in-memory)", lw=0.8)
    ax.set_ylabel("GB")
    ax.set_title("PostgreSQL on disk, broker in memory")
    ax.legend(loc="upper left")
    ax.set_xlabel("minutes")

    for row in axes:
        for ax in row:
            ax.grid(True, lw=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=80)


if __name__ == "__main__":
    main()
