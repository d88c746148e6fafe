#!/usr/bin/env python3
"""make soak's sampler: every INTERVAL seconds for SECONDS, one CSV row of what the running pipeline does.

Usage: soak-sample.py STATE SECONDS INTERVAL CSV name=port ...

STATE is the stack's folder (scripts/stack.sh): the services' and servers' pid files and `env`,
whose POSTGRES_URL is used for the latency and the database's size. Each name=port is a service
whose /metrics is read (sender, bridge, categorizer, loader). Standard library only, so that the
sampler runs with the system's python3 and costs the machine little.

Columns:
  elapsed_s                        seconds since the first sample
  sent_per_s, loaded_per_s         the sender's acknowledged and the loader's inserted tweets per second
  latency_p50_ms, latency_p99_ms   published_at → loaded_at of the rows loaded in the interval that
                                   ended LATENCY_TRAIL seconds ago (loaded_at is the row's insertion,
                                   a moment before its batch commits and it becomes queryable; the
                                   trail lets that batch commit: a batch still open after it is
                                   missed, and `latency_rows` shows how many rows were counted)
  latency_rows                     how many rows those percentiles are over
  <process>_rss_mb, <process>_cpu_pct   resident memory (PostgreSQL: the sum of its processes'
                                   proportional set sizes, so shared buffers count once) and CPU
                                   in % of one core over the interval
  bridge_backlog                   acknowledged by the broker to the sender, not yet delivered to Kafka
  categorizer_lag, loader_lag      the consumers' own lag gauges (records not yet consumed)
  postgres_mb                      the database's size on disk
"""
import csv
import os
import subprocess
import sys
import time
import urllib.request

LATENCY_TRAIL = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


def read_env(state):
    env = {}
    with open(os.path.join(state, "env")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, value = line.rstrip("\n").split("=", 1)
                env[key] = value
    return env


def pid_file(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def stat(pid):
    """(parent pid, CPU seconds) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


def memory_kb(pid, key):
    path = f"/proc/{pid}/smaps_rollup" if key == "Pss:" else f"/proc/{pid}/status"
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(parent):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            s = stat(int(entry))
            if s and s[0] == parent:
                found.append(int(entry))
    return found


def processes(state):
    """name → list of pids; PostgreSQL is its postmaster and every backend and worker under it."""
    names = {name: pid_file(os.path.join(state, f"{name}.pid"))
             for name in ("sender", "bridge", "categorizer", "loader", "mosquitto", "kafka")}
    found = {name: [pid] for name, pid in names.items() if pid}
    postmaster = pid_file(os.path.join(state, "pg", "data", "postmaster.pid"))
    if postmaster:
        found["postgres"] = [postmaster] + children(postmaster)
    return found


def usage(pids, shared):
    cpu, kb = 0.0, 0
    for pid in pids:
        s = stat(pid)
        if s:
            cpu += s[1]
            kb += memory_kb(pid, "Pss:" if shared else "VmRSS:")
    return cpu, kb / 1024


def metrics(port):
    values = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            for line in response.read().decode().splitlines():
                if line and not line.startswith("#"):
                    name, _, value = line.partition(" ")
                    try:
                        values[name] = float(value.split()[0])
                    except (ValueError, IndexError):
                        pass
    except OSError:
        pass
    return values


def query(url, sql):
    result = subprocess.run(["psql", "-X", "-q", "-At", "-F", ",", url, "-c", sql],
                            capture_output=True, text=True, timeout=30)
    return result.stdout.strip().split(",") if result.returncode == 0 else []


def main():
    state, seconds, interval, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    ports = dict(arg.split("=", 1) for arg in sys.argv[5:])
    url = read_env(state)["POSTGRES_URL"]
    names = ["sender", "bridge", "categorizer", "loader", "mosquitto", "kafka", "postgres"]
    header = ["elapsed_s", "sent_per_s", "loaded_per_s", "latency_p50_ms", "latency_p99_ms", "latency_rows"]
    header += [f"{n}_{q}" for n in names for q in ("rss_mb", "cpu_pct")]
    header += ["bridge_backlog", "categorizer_lag", "loader_lag", "postgres_mb"]

    start = time.time()
    previous = None
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        k = 0
        while True:
            now = time.time()
            found = processes(state)
            use = {n: usage(found.get(n, []), n == "postgres") for n in names}
            m = {name: metrics(port) for name, port in ports.items()}
            acknowledged = m.get("sender", {}).get("chirp_sender_acknowledged_total", 0)
            inserted = m.get("loader", {}).get("chirp_loader_inserted_total", 0)
            if previous:
                dt = now - previous["time"]
                lo, hi = previous["time"] - LATENCY_TRAIL, now - LATENCY_TRAIL
                lat = query(url, f"""
                    SELECT round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric),
                           round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric),
                           count(*)
                    FROM tweets WHERE loaded_at > to_timestamp({lo}) AND loaded_at <= to_timestamp({hi})""")
                size = query(url, "SELECT pg_database_size(current_database()) / 1048576")
                row = [round(now - start, 1), round((acknowledged - previous["acknowledged"]) / dt),
                       round((inserted - previous["inserted"]) / dt)]
                row += (lat + ["", "", ""])[:3]
                for n in names:
                    cpu, mb = use[n]
                    before = previous["use"].get(n, (cpu, mb))[0]
                    row += [round(mb, 1), round(100 * max(0.0, cpu - before) / dt, 1)]
                delivered = m.get("bridge", {}).get("chirp_bridge_delivered_total", 0)
                row += [round(acknowledged - delivered),
                        round(m.get("categorizer", {}).get("chirp_categorizer_consumer_lag", 0)),
                        round(m.get("loader", {}).get("chirp_loader_consumer_lag", 0)),
                        (size + [""])[0]]
                writer.writerow(row)
                f.flush()
                if k % max(1, round(60 / interval)) == 0:
                    print(f"soak: {row[0]:>6.0f} s  sent {row[1]}/s  loaded {row[2]}/s  "
                          f"p50 {row[3]} ms  p99 {row[4]} ms  postgres {row[-1]} MB", flush=True)
            previous = {"time": now, "acknowledged": acknowledged, "inserted": inserted, "use": use}
            if now - start >= seconds:
                break
            k += 1
            time.sleep(max(0.0, start + k * interval - time.time()))


if __name__ == "__main__":
    main()
