#!/usr/bin/env python3
"""Disk full (issue 21): `sluice serve` on a database in a small tmpfs, submits until the volume
is full, then the volume is grown and the server must carry on.

What must hold: a full disk gives a 507 or 503 with a JSON error naming the cause (never a 500,
never an empty body), the process stays up, its log does not flood (a line per interval), and
after space is freed every acknowledged submit is in the file and runs to its end.

    diskfull.py --binary .build/debug/sluice [--size-mb 6]

Needs root (or password-less sudo) to mount the tmpfs; otherwise prints `SKIP diskfull` and
exits 0. Prints `DISKFULL acknowledged= refused_507= refused_503= 5xx_other= empty_or_non_json=
crashes= lost= stuck= recovered= log_lines_per_s= fds= rss_kb=`; exits 1 on a failure."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402


def privileged():
    """The command prefix that can mount, or None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--size-mb", type=int, default=6)
    parser.add_argument("--full-seconds", type=float, default=8, help="how long to keep submitting once the disk is full")
    args = parser.parse_args()
    prefix = privileged()
    if prefix is None:
        harness.log("SKIP diskfull: mounting a tmpfs needs root or password-less sudo")
        return 0
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="sluice-diskfull-")
    mount = os.path.join(workdir, "volume")
    os.makedirs(mount)
    mounted = subprocess.run(prefix + ["mount", "-t", "tmpfs", "-o", "size=%dm,mode=1777" % args.size_mb, "tmpfs", mount],
                             capture_output=True, text=True)
    if mounted.returncode != 0:  # root without CAP_SYS_ADMIN, as in some containers
        harness.log("SKIP diskfull: cannot mount a tmpfs here: %s" % mounted.stderr.strip()[:200])
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    db = os.path.join(mount, "d.sqlite")
    port = harness.free_port()
    serve = harness.Sluice(binary, ["serve", "--db", db, "--listen", "127.0.0.1:%d" % port, "--queues", "default:8"],
                           workdir, "serve", port)
    status_counts = {}
    acked = {}
    bad_bodies = []
    failed = True
    try:
        serve.start()
        time.sleep(0.5)
        fds_before, rss_before = harness.proc_stats(serve.proc.pid)
        submitter = harness.Submitter(port, timeout=30)
        # Inputs of 16 KiB: a few hundred fill the volume. Submits go on for --full-seconds
        # after the first refusal, to see the process and its log under a full disk.
        pad = "f" * 16384
        first_refusal = None
        acked_before_full = 0
        full_log_start = None
        index = 0
        while True:
            key = "df-%d" % index
            index += 1
            try:
                status, reply, raw = submitter.request("POST", "/v1/executions",
                                                       {"definition": "noop", "input": {"pad": pad}, "idempotencyKey": key})
            except Exception as error:  # the connection was cut: a crash shows up below
                status, reply, raw = 0, None, str(error).encode()
                time.sleep(0.1)
            status_counts[status] = status_counts.get(status, 0) + 1
            if status in (200, 201) and isinstance(reply, dict) and reply.get("id"):
                acked[key] = reply["id"]
            elif status >= 400:
                if not (isinstance(reply, dict) and reply.get("error")):
                    bad_bodies.append((status, raw[:200]))
                if first_refusal is None:
                    first_refusal = time.time()
                    acked_before_full = len(acked)
                    full_log_start = os.path.getsize(serve.log_path())
                    harness.log("# first refusal after %d acknowledged: %d %s" % (len(acked), status, raw[:200]))
            if not serve.check():
                break
            if first_refusal is not None and time.time() - first_refusal > args.full_seconds:
                break
            if index > 100000:
                break
        full_seconds = time.time() - first_refusal if first_refusal else 0
        log_lines = 0
        if full_log_start is not None:
            with open(serve.log_path(), "rb") as handle:
                handle.seek(full_log_start)
                log_lines = handle.read().count(b"\n")
        fds_full, rss_full = harness.proc_stats(serve.proc.pid)
        alive_when_full = serve.check()
        # Free space: grow the volume; the server must accept again without a restart.
        subprocess.check_call(prefix + ["mount", "-o", "remount,size=%dm" % (args.size_mb * 16), mount])
        recovered = False
        deadline = time.time() + 30
        while time.time() < deadline and serve.check():
            try:
                status, reply, _ = submitter.request("POST", "/v1/executions", {"definition": "noop", "idempotencyKey": "df-after"})
            except Exception:
                status, reply = 0, None
            if status in (200, 201) and isinstance(reply, dict):
                acked["df-after"] = reply["id"]
                recovered = True
                break
            time.sleep(0.5)
        drained = harness.wait_drained(db, 120, serve.check)
        fds_after, rss_after = harness.proc_stats(serve.proc.pid)
        submitter.close()
        exit_code = serve.terminate()
        result = harness.audit(db, acked)
        crashes = len(serve.unexpected) + (0 if alive_when_full else 1)
        for incarnation, code, tail in serve.unexpected:
            harness.log("# CRASH exit %s:\n%s" % (code, tail))
        for status, body in bad_bodies[:5]:
            harness.log("# non-JSON error %d: %r" % (status, body))
        other_5xx = sum(count for status, count in status_counts.items() if status >= 500 and status not in (503, 507))
        figures = {
            "acknowledged": len(acked), "acknowledged_before_full": acked_before_full, "refused_507": status_counts.get(507, 0), "refused_503": status_counts.get(503, 0),
            "5xx_other": other_5xx, "4xx": sum(c for s, c in status_counts.items() if 400 <= s < 500),
            "cut_connections": status_counts.get(0, 0), "empty_or_non_json": len(bad_bodies), "crashes": crashes,
            "lost": result["lost"], "stuck": result["stuck"], "integrity": result["integrity"], "recovered": int(recovered),
            "drained": int(drained), "clean_exit": int(exit_code == 0),
            "log_lines_per_s": "%.1f" % (log_lines / full_seconds if full_seconds else 0),
            "fds": "%s->%s->%s" % (fds_before, fds_full, fds_after), "rss_kb": "%s->%s->%s" % (rss_before, rss_full, rss_after),
            "volume_mb": args.size_mb,
        }
        harness.figures("DISKFULL", figures)
        failed = bool(other_5xx or bad_bodies or crashes or result["lost"] or result["stuck"] or not recovered or not drained
                      or result["integrity"] != "ok" or first_refusal is None or log_lines / max(full_seconds, 1) > 5)
    finally:
        if serve.check():
            serve.kill()
        subprocess.run(prefix + ["umount", "-l", mount])
        if failed:
            harness.log("# logs kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
