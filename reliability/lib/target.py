#!/usr/bin/env python3
"""A small HTTP target on 127.0.0.1 for the reliability suite (stdlib only).

GET or POST /ok (optionally ?delay=MS) answers 200 with a small JSON body; every request is counted, and the count
is written to the file given by --hits when the process gets SIGTERM (so a harness can compare
requests received with tasks that should have run). Usage:

    target.py --port-file F [--hits F]    # binds port 0, writes the port to F, serves
"""
import argparse
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time

HITS = 0
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real upstream

    def _answer(self):
        global HITS
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with LOCK:
            HITS += 1
        if "delay=" in self.path:  # ?delay=MS keeps requests in flight, so a kill cuts some
            try:
                time.sleep(int(self.path.split("delay=")[1].split("&")[0]) / 1000.0)
            except ValueError:
                pass
        body = b'{"ok":true}'
        status = 200 if self.path.startswith("/ok") else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args):  # quiet: thousands of requests
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the point of the suite) is no error of the target


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--hits")
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)

    def stop(*_):
        if args.hits:
            with open(args.hits, "w") as handle:
                json.dump({"hits": HITS}, handle)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    with open(args.port_file + ".tmp", "w") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
