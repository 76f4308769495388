#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load and abuse benchmark of `winnow serve` (standard library only).

Starts `winnow serve MODEL --port 0` on 127.0.0.1 (or uses --url), then in one run:
  1. load: --clients threads, each on its own keep-alive connection, POST --requests JPEGs each (raw bytes), all at
     once; every answer must be 200 with a label;
  2. beside the load, for as long as it runs, --slow clients that send a request head one byte every 0.5 s
     (slowloris), reconnecting after each answer: each must get 408, and the load must not stall behind them;
  3. after the load, a client announcing a 300 MB body: the time to its 413 (from the head alone), and the server's
     peak RSS before and after it streams --oversize-mb of body anyway.
Prints one JSON object: requests, failures, req/s, latency p50/p90/p99/max (ms), the slow clients' answers, the 413
timing, and the server's peak RSS (VmHWM) before and after the load.

Without --model it first trains a small one (1 frozen epoch of MobileNetV2 at --size on bears-small) and exports it.

    python3 tests/bench/serve_load.py --winnow build/release/app/winnow --clients 8 --requests 500
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time


def shared_dir():
    return os.environ.get("WINNOW_SHARED") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * (len(s) - 1)))))
    return s[k]


def make_model(winnow, size, work):
    data = os.path.join(shared_dir(), "datasets", "bears-small")
    run = os.path.join(work, "run")
    weights = os.path.join(shared_dir(), "weights", "mobilenet_v2-imagenet.safetensors")
    cmd = [winnow, "train", data, "--arch", "mobilenet_v2", "--weights", weights, "--size", str(size),
           "--freeze-epochs", "1", "--epochs", "0", "--out", run]
    print("training a model for the benchmark:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    model = os.path.join(work, "bears.winnow")
    subprocess.run([winnow, "export", run, "--out", model], check=True, stdout=subprocess.DEVNULL)
    return model


def images(folder, limit=64):
    out = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if name.lower().endswith((".jpg", ".jpeg")):
                out.append(os.path.join(root, name))
    out.sort()
    step = max(1, len(out) // limit)
    return [open(p, "rb").read() for p in out[::step][:limit]]


def client(host, port, bodies, count, offset, latencies, failures, lock):
    """One keep-alive connection, `count` uploads; latencies of the answered (200) ones, failures as text."""
    conn = http.client.HTTPConnection(host, port, timeout=120)
    mine = []
    bad = []
    for i in range(count):
        body = bodies[(offset + i) % len(bodies)]
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/predict", body=body, headers={"Content-Type": "image/jpeg"})
            r = conn.getresponse()
            payload = r.read()
            if r.status == 200 and "label" in json.loads(payload):
                mine.append((time.perf_counter() - t0) * 1000.0)
            else:
                bad.append(f"{r.status} {payload[:120]!r}")
        except Exception as e:  # noqa: BLE001 - a failure of any kind is counted
            bad.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.close()
    with lock:
        latencies.extend(mine)
        failures.extend(bad)


def slow_client(host, port, results, lock, stop):
    """Slowloris until `stop`: a request head one byte every 0.5 s, again and again; records each answer."""
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n"
    while not stop.is_set():
        t0 = time.perf_counter()
        answer = b""
        try:
            s = socket.create_connection((host, port), timeout=120)
        except OSError as e:
            with lock:
                results.append({"status": None, "error": repr(e)})
            return
        try:
            for b in head:
                s.sendall(bytes([b]))
                s.settimeout(0.5)
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    continue
                answer += chunk
                break
            s.settimeout(30)
            while answer and b"\r\n\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError as e:
            answer += repr(e).encode()
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.1 (\d+)", answer)
        with lock:
            results.append({"status": int(m.group(1)) if m else None, "after_s": round(time.perf_counter() - t0, 2)})


def oversize(host, port, pid, stream_mb):
    s = socket.create_connection((host, port), timeout=30)
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 300000000\r\n\r\n"
    t0 = time.perf_counter()
    s.sendall(head)
    answer = s.recv(4096)
    first_ms = (time.perf_counter() - t0) * 1000.0
    before = peak_rss_mb(pid) if pid else None
    sent = 0
    chunk = b"x" * (1 << 20)
    try:
        for _ in range(stream_mb):
            s.sendall(chunk)
            sent += 1
    except OSError:
        pass
    s.close()
    time.sleep(0.5)
    after = peak_rss_mb(pid) if pid else None
    m = re.match(rb"HTTP/1\.1 (\d+)", answer)
    return {"status": int(m.group(1)) if m else None, "answer_ms": round(first_ms, 1), "body_streamed_mb": sent,
            "server_peak_rss_mb_before": before, "server_peak_rss_mb_after": after}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--winnow", default="build/release/app/winnow")
    ap.add_argument("--model", help="an exported model (default: train a small one)")
    ap.add_argument("--url", help="an already running server, e.g. http://127.0.0.1:8765 (RSS is then not measured)")
    ap.add_argument("--size", type=int, default=224, help="image size of the trained model (default 224)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=500, help="requests per client")
    ap.add_argument("--slow", type=int, default=4, help="slowloris clients beside the load")
    ap.add_argument("--oversize-mb", type=int, default=300, help="body streamed after the 413")
    ap.add_argument("--images", default=os.path.join(shared_dir(), "datasets", "bears-small"))
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="winnow-serve-load-")
    server = None
    pid = None
    try:
        if args.url:
            m = re.match(r"http://([^:/]+):(\d+)", args.url)
            if not m:
                sys.exit(f"--url must look like http://127.0.0.1:8765, not {args.url}")
            host, port = m.group(1), int(m.group(2))
        else:
            model = args.model or make_model(args.winnow, args.size, work)
            server = subprocess.Popen([args.winnow, "serve", model, "--port", "0", "--quiet"],
                                      stdout=subprocess.PIPE, text=True)
            pid = server.pid
            host, port = "127.0.0.1", None
            for line in server.stdout:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    port = int(m.group(1))
                    break
            if port is None:
                sys.exit("winnow serve did not start")
        result = run(args, host, port, pid)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    slow_ok = set(result["slow_clients"]["statuses"]) <= {"408"}
    return 0 if not result["failed"] and slow_ok and result["oversize"]["status"] == 413 else 1


def run(args, host, port, pid):
    bodies = images(args.images)
    if not bodies:
        sys.exit(f"no JPEG images under {args.images}")

    # Warm-up (first forward pass allocates).
    client(host, port, bodies, 4, 0, [], [], threading.Lock())
    rss_before = peak_rss_mb(pid) if pid else None

    lock = threading.Lock()
    latencies, failures, slow_results = [], [], []
    stop = threading.Event()
    slow = [threading.Thread(target=slow_client, args=(host, port, slow_results, lock, stop)) for _ in range(args.slow)]
    workers = [threading.Thread(target=client, args=(host, port, bodies, args.requests, i * 7, latencies, failures,
                                                     lock)) for i in range(args.clients)]
    t0 = time.perf_counter()
    for t in slow + workers:
        t.start()
    for t in workers:
        t.join()
    wall = time.perf_counter() - t0
    stop.set()
    for t in slow:
        t.join()
    rss_after_load = peak_rss_mb(pid) if pid else None
    big = oversize(host, port, pid, args.oversize_mb)
    statuses = {}
    for r in slow_results:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    return {
        "clients": args.clients,
        "requests": args.clients * args.requests,
        "answered": len(latencies),
        "failed": len(failures),
        "failures": failures[:5],
        "wall_s": round(wall, 2),
        "req_per_s": round(len(latencies) / wall, 1) if wall > 0 else None,
        "latency_ms": {k: (round(v, 1) if v is not None else None) for k, v in
                       {"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
                        "p99": percentile(latencies, 99), "max": max(latencies) if latencies else None}.items()},
        "slow_clients": {"connections": len(slow_results), "statuses": statuses,
                         "median_s_to_answer": percentile([r.get("after_s", 0) for r in slow_results], 50)},
        "oversize": big,
        "server_peak_rss_mb": {"after_warmup": rss_before, "after_load": rss_after_load,
                               "after_oversize": big["server_peak_rss_mb_after"]},
        "cores": os.cpu_count(),
    }


if __name__ == "__main__":
    sys.exit(main())
