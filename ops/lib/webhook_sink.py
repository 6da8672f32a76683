#!/usr/bin/env python3
"""A webhook receiver for the ops scripts: answers every POST 204 after --delay seconds (so that deliveries are in
flight for a while) and appends each request's `webhook-id` and the time it arrived to --out, one per line.

It prints its port on the first line of standard output once it listens. Standard library only.
"""
import argparse
import http.server
import sys
import threading
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            webhook_id = self.headers.get("webhook-id", "-")
            time.sleep(args.delay)
            with lock, open(args.out, "a") as out:
                out.write(f"{webhook_id}\t{time.time():.3f}\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
