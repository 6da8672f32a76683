#!/usr/bin/env python3
"""The load of ops/faults: connectors posting signal batches to `mdr serve` while faults are injected.

Each client posts batches of new signals (unique sourceAlertIds) for the tenants in turn, each batch with its own
Idempotency-Key, and resends the same batch with the same key after any answer that is not a 200 (503 while the
database restarts or the pipeline is behind, 429, a refused connection while the service restarts, a timeout) until it
is answered 200 or the resend deadline passes. A signal counts as acknowledged once its batch was answered 200; each
acknowledged signal is written to --out as `tenant<TAB>stream` for the checks that follow.

Standard library only (urllib, threads): it runs with the system's Python.
"""
import argparse
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True, help="the bearer token (a tenant's own in --tokens wins)")
    parser.add_argument("--tokens", default="", help="tenant=token,… : each tenant's connector token")
    parser.add_argument("--tenants", required=True, help="comma-separated tenant ids")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--seconds", type=float, required=True, help="how long new batches are started")
    parser.add_argument("--resend-for", type=float, default=90.0, help="how long an unanswered batch is resent")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    tenants = args.tenants.split(",")
    tokens = dict(pair.split("=", 1) for pair in args.tokens.split(",") if pair)

    lock = threading.Lock()
    acknowledged: list[tuple[str, str]] = []
    counts = {"batches": 0, "resends": 0, "given_up": 0}
    answers: dict[str, int] = {}
    stop_at = time.monotonic() + args.seconds

    def post(tenant: str, key: str, body: bytes) -> tuple[int, float]:
        request = urllib.request.Request(
            f"{args.base}/v1/tenants/{tenant}/signals", data=body, method="POST",
            headers={"Authorization": f"Bearer {tokens.get(tenant, args.token)}", "Content-Type": "application/json", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return response.status, 0.0
        except urllib.error.HTTPError as error:
            retry_after = float(error.headers.get("Retry-After") or 0.2)
            error.read()
            return error.code, min(retry_after, 2.0)
        except (urllib.error.URLError, OSError, TimeoutError):
            return 0, 0.5

    def client(number: int) -> None:
        batch_number = 0
        while time.monotonic() < stop_at:
            batch_number += 1
            tenant = tenants[(number + batch_number) % len(tenants)]
            key = f"faults-{number}-{batch_number}"
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            signals = []
            for index in range(args.batch):
                alert = f"faults-{number}-{batch_number}-{index}"
                signals.append({
                    "source": "endpoint", "sourceAlertId": alert, "severity": random.choice(["low", "medium"]),
                    "title": "Load while faults are injected", "observedAt": now,
                    "entities": {"devices": [f"ws-{number:02d}{index % 20:02d}"]},
                })
            body = json.dumps({"signals": signals}).encode()
            give_up = time.monotonic() + args.resend_for
            attempts = 0
            while True:
                attempts += 1
                status, wait = post(tenant, key, body)
                with lock:
                    answers[str(status)] = answers.get(str(status), 0) + 1
                if status == 200:
                    with lock:
                        counts["batches"] += 1
                        counts["resends"] += attempts - 1
                        acknowledged.extend((tenant, f"signal:endpoint:{s['sourceAlertId']}") for s in signals)
                    break
                if time.monotonic() > give_up:
                    with lock:
                        counts["given_up"] += 1
                    break
                time.sleep(wait)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(args.out, "w") as out:
        for tenant, stream in acknowledged:
            out.write(f"{tenant}\t{stream}\n")
    print(json.dumps({"acknowledged": len(acknowledged), **counts, "answers": answers}))
    return 1 if counts["given_up"] else 0


if __name__ == "__main__":
    sys.exit(main())
