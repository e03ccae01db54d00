#!/usr/bin/env python3
"""Regenerate tsdb/testdata/prometheus-2.42/: XOR chunks written by a real Prometheus.

Starts the installed `prometheus` (Debian 2.42) on a free 127.0.0.1 port with an empty
temp data dir, remote-writes a few series with known samples (fixed seed, fixed base
time, so the samples are the same on every run), reads them back through the HTTP API,
snapshots the TSDB with the admin API (head included), and copies the snapshot's block.
It then walks the block's chunk segment file and, for each chunk, records which series
and which samples it holds (matched by the chunk's first timestamp, which is unique
across all generated samples).

Output (in tsdb/testdata/prometheus-2.42/):
  block/          the snapshot block (meta.json, index, chunks/000001, tombstones)
  vectors.json    per series: labels, the samples written (value bits in hex),
                  the samples the query API returned, and each chunk's byte offset
                  in block/chunks/000001 with the index of its first sample.

Standard library only: protobuf is hand-encoded and the snappy block uses literals only
(valid snappy, just not compressed).

Usage: python3 tsdb/testdata/make_prometheus_vectors.py [--prometheus /usr/bin/prometheus]
"""

import argparse
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "prometheus-2.42")
BASE_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z; an empty head accepts any time.
STALE_NAN = 0x7FF0000000000002


# ---------------------------------------------------------------- sample generation


def f2b(x):
    return struct.unpack(">Q", struct.pack(">d", x))[0]


def generate():
    """Returns [(labels dict, [(t_ms, value_bits)])], deterministic."""
    rnd = random.Random(42)
    series = []

    def add(name, offset, samples, **extra):
        labels = {"__name__": name, "job": "promlite-vectors", **extra}
        series.append((labels, [(BASE_MS + offset + t, b) for t, b in samples]))

    # A counter scraped every 15s exactly: dod 0, small integer increments.
    v, s = 0.0, []
    for i in range(250):
        v += rnd.randint(0, 20)
        s.append((i * 15_000, f2b(v)))
    add("promlite_vec_counter_total", 1, s)

    # A gauge with two decimals and jitter on the timestamps. (All offsets within a
    # series are multiples of 100 ms, so the series offset keeps timestamps unique.)
    s = []
    for i in range(200):
        s.append((i * 15_000 + 100 * rnd.randint(0, 4), f2b(round(rnd.uniform(0, 100), 2))))
    add("promlite_vec_gauge", 2, s)

    # Special values: NaN payloads, the stale marker, infinities, signed zero, extremes.
    specials = [
        f2b(float("nan")), STALE_NAN, 0x7FF8DEADBEEF0001, f2b(float("inf")),
        f2b(float("-inf")), f2b(-0.0), f2b(0.0), 1, 0x7FEFFFFFFFFFFFFF,
        f2b(1.5), f2b(-1e-300), STALE_NAN, f2b(42.0),
    ]
    s = [(i * 30_000, specials[i % len(specials)]) for i in range(60)]
    add("promlite_vec_special", 3, s)

    # Irregular intervals hitting every delta-of-delta bucket (0, 14, 17, 20, 64 bits).
    steps = [15_000, 15_000, 100, 15_000 + 8_000, 15_000 - 6_000, 15_000 + 60_000,
             15_000 + 400_000, 15_000, 700_000, 15_000, 15_100, 200]
    t, s = 0, []
    for i in range(40):
        s.append((t, f2b(float(i % 7))))
        t += steps[i % len(steps)]
    add("promlite_vec_gaps", 4, s)

    # Full-entropy values: every XOR window shape.
    s = [(i * 10_000, rnd.getrandbits(64)) for i in range(130)]
    add("promlite_vec_random_bits", 5, s)

    # A constant series: one bit per timestamp, one per value.
    s = [(i * 15_000, f2b(1.0)) for i in range(150)]
    add("promlite_vec_constant", 6, s, instance="a")

    # A histogram bucket counter at 30s.
    v, s = 0.0, []
    for i in range(130):
        v += rnd.choice([0, 0, 1, 2, 5])
        s.append((i * 30_000, f2b(v)))
    add("promlite_vec_request_duration_seconds_bucket", 7, s, le="0.25")
    return series


# ---------------------------------------------------------------- remote-write encoding


def uvarint(x):
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


def field(num, wire, payload):
    return uvarint((num << 3) | wire) + payload


def ld(num, data):  # length-delimited field
    return field(num, 2, uvarint(len(data)) + data)


def write_request(series):
    body = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for k in sorted(labels):
            ts += ld(1, ld(1, k.encode()) + ld(2, labels[k].encode()))
        for t, bits in samples:
            sample = field(1, 1, struct.pack("<Q", bits)) + field(2, 0, uvarint(t & (2**64 - 1)))
            ts += ld(2, sample)
        body += ld(1, bytes(ts))
    return bytes(body)


def snappy_literals(data):
    """A valid snappy block made of literal elements only."""
    out = bytearray(uvarint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


# ---------------------------------------------------------------- chunk segment parsing


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def read_uvarint(buf, pos):
    x, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        x |= (b & 0x7F) << shift
        if b < 0x80:
            return x, pos
        shift += 7


def chunks_in_segment(buf):
    """Yields (offset, encoding, data) for each chunk, checking magic and CRC32C."""
    magic, version = struct.unpack(">IB", buf[:5])
    assert magic == 0x85BD40DD and version == 1, (hex(magic), version)
    pos = 8
    while pos < len(buf):
        start = pos
        n, pos = read_uvarint(buf, pos)
        enc = buf[pos]
        data = buf[pos + 1:pos + 1 + n]
        (crc,) = struct.unpack(">I", buf[pos + 1 + n:pos + 5 + n])
        assert crc == crc32c(buf[pos:pos + 1 + n]), f"bad CRC at {start}"
        yield start, enc, data
        pos += 5 + n


def first_timestamp(data):
    u, _ = read_uvarint(data, 2)
    return (u >> 1) ^ -(u & 1)


# ---------------------------------------------------------------- driving Prometheus


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    args = ap.parse_args()

    series = generate()
    all_ts = {}
    for si, (_, samples) in enumerate(series):
        for i, (t, _) in enumerate(samples):
            assert t not in all_ts, "timestamps must be unique across series"
            all_ts[t] = (si, i)

    tmp = tempfile.mkdtemp(prefix="promlite-vectors-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    proc = subprocess.Popen(
        [args.prometheus, f"--config.file={tmp}/prometheus.yml",
         f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{port}",
         "--web.enable-remote-write-receiver", "--web.enable-admin-api",
         "--storage.tsdb.retention.time=100y"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
    try:
        for _ in range(300):
            try:
                http(base + "/-/ready")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("prometheus did not become ready")

        http(base + "/api/v1/write", snappy_literals(write_request(series)), {
            "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0"})

        out = {"prometheus": subprocess.run([args.prometheus, "--version"], capture_output=True,
                                            text=True).stdout.splitlines()[0],
               "series": []}
        for labels, samples in series:
            end = samples[-1][0]
            sel = "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
            q = urllib.parse.urlencode({"query": f"{sel}[1d]", "time": f"{end / 1000:.3f}"})
            res = json.loads(http(f"{base}/api/v1/query?{q}"))
            api = [[round(float(t) * 1000), v] for t, v in res["data"]["result"][0]["values"]]
            out["series"].append({
                "labels": labels,
                "samples": [[t, f"{b:016x}"] for t, b in samples],
                "api": api,
                "chunks": [],
            })

        snap = json.loads(http(base + "/api/v1/admin/tsdb/snapshot?skip_head=false", b"",
                               method="POST"))["data"]["name"]
        snapdir = os.path.join(tmp, "data", "snapshots", snap)
        # Everything spans under 3h, so the head was not compacted: one block.
        (block,) = os.listdir(snapdir)
        blockdir = os.path.join(snapdir, block)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    with open(os.path.join(blockdir, "chunks", "000001"), "rb") as f:
        seg = f.read()
    for offset, enc, data in chunks_in_segment(seg):
        assert enc == 1, f"chunk at {offset} has encoding {enc}"
        si, first = all_ts[first_timestamp(data)]
        n = struct.unpack(">H", data[:2])[0]
        out["series"][si]["chunks"].append({"offset": offset, "first_sample": first,
                                            "num_samples": n})
    for s in out["series"]:
        s["chunks"].sort(key=lambda c: c["first_sample"])
        assert sum(c["num_samples"] for c in s["chunks"]) == len(s["samples"]), s["labels"]

    shutil.rmtree(os.path.join(OUT, "block"), ignore_errors=True)
    shutil.copytree(blockdir, os.path.join(OUT, "block"))
    with open(os.path.join(OUT, "vectors.json"), "w") as f:
        # One line per series keeps the file small and its diffs readable.
        f.write('{"prometheus": %s, "series": [\n' % json.dumps(out["prometheus"]))
        f.write(",\n".join(json.dumps(s, separators=(",", ":")) for s in out["series"]))
        f.write("\n]}\n")
    shutil.rmtree(tmp)
    nchunks = sum(len(s["chunks"]) for s in out["series"])
    print(f"wrote {len(series)} series, {nchunks} chunks to {OUT}")


if __name__ == "__main__":
    main()
