#!/usr/bin/env python3
"""Rewrites the option table under each '### chirp-<service>' heading of docs/operations.md from
the service's own `--help-markdown`, and the `chirp` CLI's sections between the chirp-help markers
of docs/cli.md (a test fails when they differ). Usage: after `swift build`,
  python3 scripts/update-option-tables.py [BIN_DIR]   (default .build/debug)"""
import pathlib, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
bin_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / ".build/debug"
readme = (root / "docs/operations.md").read_text()
for service in ["sender", "bridge", "categorizer", "loader"]:
    table = subprocess.run([str(bin_dir / f"chirp-{service}"), "--help-markdown"], check=True,
                           capture_output=True, text=True).stdout.strip()
    heading = readme.index(f"### chirp-{service}\n")
    start = readme.index("| flag | environment | default | meaning |", heading)
    end = start
    for line in readme[start:].split("\n"):
        if not line.startswith("|"):
            break
        end += len(line) + 1
    readme = readme[:start] + table + "\n" + readme[end:]
(root / "docs/operations.md").write_text(readme)
# The chirp CLI: one section per command, between markers.
readme = (root / "docs/cli.md").read_text()
help = subprocess.run([str(bin_dir / "chirp"), "--help-markdown"], check=True, capture_output=True, text=True).stdout.strip()
start = readme.index("<!-- chirp-help:start -->") + len("<!-- chirp-help:start -->")
end = readme.index("<!-- chirp-help:end -->")
readme = readme[:start] + "\n" + help + "\n" + readme[end:]
(root / "docs/cli.md").write_text(readme)
print("option tables in docs/operations.md and docs/cli.md updated")
