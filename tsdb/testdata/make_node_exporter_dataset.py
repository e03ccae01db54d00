#!/usr/bin/env python3
"""Record a real node_exporter through a real Prometheus 2.42, for the compression bench.

Starts `prometheus-node-exporter` and `prometheus` (Debian packages) on free 127.0.0.1
ports, lets Prometheus scrape node_exporter (and itself) every --interval seconds for
--minutes, then exports every series' raw samples with one range-selector query per
metric name and writes them as a Prometheus query API "matrix" JSON file, the format
`promlite bench compression --dataset FILE.json` reads.

Too large to commit (a few MB); regenerate with, e.g.:
  python3 tsdb/testdata/make_node_exporter_dataset.py --minutes 30 --interval 5 \
      --out target/datasets/node-exporter.json
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def wait_ready(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not become ready")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--interval", type=int, default=5, help="scrape interval, seconds")
    ap.add_argument("--out", default="target/datasets/node-exporter.json")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="promlite-nodeexp-")
    ne_port, prom_port = free_port(), free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: {args.interval}s
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ["127.0.0.1:{ne_port}"]}}]
  - job_name: prometheus
    static_configs: [{{targets: ["127.0.0.1:{prom_port}"]}}]
""")
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{ne_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(
            ["prometheus", f"--config.file={tmp}/prometheus.yml",
             f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{prom_port}"
        wait_ready(base + "/-/ready")
        start = time.time()
        time.sleep(args.minutes * 60)
        end = time.time()
        names = get(base + "/api/v1/label/__name__/values")["data"]
        result = []
        window = int(end - start) + 60
        for name in names:
            q = urllib.parse.urlencode({"query": f'{{__name__="{name}"}}[{window}s]',
                                        "time": f"{end:.3f}"})
            result += get(f"{base}/api/v1/query?{q}")["data"]["result"]
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"status": "success", "data": {"resultType": "matrix", "result": result}}, f)
    n = sum(len(s["values"]) for s in result)
    print(f"wrote {len(result)} series, {n} samples to {args.out}")


if __name__ == "__main__":
    main()
