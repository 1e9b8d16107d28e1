"""Shared pieces of the reliability suite: start and stop `sluice` processes and the HTTP target,
submit over HTTP, read a process's descriptors and RSS, and check a database file for lost,
stuck and duplicated work. Standard library only, so the suite runs on a fresh machine."""
import atexit
import http.client
import json
import shutil
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
CRASH_MARKERS = ("*** Signal ", "Fatal error:", "*** Program crashed", "ERROR: AddressSanitizer")
_STARTED = []  # every process this harness started, killed at exit if still running


@atexit.register
def _kill_leftovers():
    for proc in _STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def log(*parts):
    print(*parts, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=60.0, proc=None):
    """Waits until 127.0.0.1:port accepts; False if the process died or time ran out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def proc_stats(pid):
    """(open descriptors, RSS in KiB) of a live process, or (None, None)."""
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as handle:
            rss = next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), None)
        return fds, rss
    except OSError:
        return None, None


class Target:
    """reliability/lib/target.py in its own process."""

    def __init__(self, workdir):
        self.port_file = os.path.join(workdir, "target.port")
        self.hits_file = os.path.join(workdir, "target.hits")
        for path in (self.port_file, self.hits_file):
            if os.path.exists(path):
                os.unlink(path)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "target.py"),
                                      "--port-file", self.port_file, "--hits", self.hits_file],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _STARTED.append(self.proc)
        deadline = time.time() + 20
        while not os.path.exists(self.port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the HTTP target did not start")
            time.sleep(0.05)
        self.port = int(open(self.port_file).read())

    def stop(self):
        """Stops the target; returns the number of requests it answered."""
        if self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            return json.load(open(self.hits_file))["hits"]
        except (OSError, ValueError):
            return None


class GaveUp(Exception):
    """A process kept dying on its own: a crash loop, reported instead of restarted forever."""


class Sluice:
    """One `sluice` process (serve, server or worker) that can be killed and started again.

    `unexpected` counts exits nobody asked for (a crash: a signal other than our SIGKILL, or a
    non-zero exit); the log of each incarnation is kept for the report."""

    def __init__(self, binary, args, workdir, name, port=None, env=None):
        self.binary, self.args, self.workdir, self.name, self.port = binary, args, workdir, name, port
        self.env = env
        self.proc = None
        self.incarnation = 0
        self.kills = 0
        self.unexpected = []
        self.expecting_exit = False

    def log_path(self, incarnation=None):
        return os.path.join(self.workdir, "%s.%d.log" % (self.name, self.incarnation if incarnation is None else incarnation))

    def start(self, timeout=90.0):
        """Starts an incarnation; False if it died or did not listen (recorded in `unexpected`)."""
        self.incarnation += 1
        self.expecting_exit = False
        handle = open(self.log_path(), "w")
        self.proc = subprocess.Popen([self.binary] + self.args, stdout=handle, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        _STARTED.append(self.proc)
        handle.close()
        if self.port is not None:
            if not wait_port(self.port, timeout, self.proc):
                if self.check():  # alive but deaf: a hang at start-up counts as a crash
                    self.unexpected.append((self.incarnation, "no listener after %.0f s" % timeout, self.tail()))
                    self.expecting_exit = True
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
                return False
            return True
        time.sleep(0.3)
        return self.check()

    def ensure_running(self, max_unexpected=10):
        """Starts the process again if it died on its own, after a short back-off; raises
        GaveUp after `max_unexpected` such exits."""
        if self.check():
            return
        if len(self.unexpected) >= max_unexpected:
            raise GaveUp("%s exited on its own %d times" % (self.name, len(self.unexpected)))
        time.sleep(min(2.0, 0.25 * len(self.unexpected)))
        self.start()

    def tail(self, lines=15):
        try:
            return "".join(open(self.log_path(), errors="replace").readlines()[-lines:])
        except OSError:
            return ""

    def check(self):
        """Records an exit nobody asked for; True if the process is running."""
        if self.proc is None:
            return False
        code = self.proc.poll()
        if code is None:
            return True
        if not self.expecting_exit:
            self.unexpected.append((self.incarnation, code, self.tail()))
            self.expecting_exit = True
        return False

    def kill(self):
        """SIGKILL to the process's group: the process, and a crash backtracer it may have
        spawned, which would otherwise keep its listening socket (and the port) for seconds."""
        if self.check():
            self.expecting_exit = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
            # A crash our kill interrupted (the runtime was still writing its backtrace) is a crash.
            try:
                text = open(self.log_path(), errors="replace").read()
            except OSError:
                text = ""
            if any(marker in text for marker in CRASH_MARKERS):
                self.unexpected.append((self.incarnation, "crashed before the kill", self.tail()))

    def terminate(self, timeout=30.0):
        """SIGTERM and wait: returns the exit code (None if it had to be killed)."""
        if not self.check():
            return self.proc.returncode if self.proc else None
        self.expecting_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None


class Submitter:
    """Submits over one keep-alive connection; reconnects after a refused or cut connection."""

    def __init__(self, port, timeout=15.0):
        self.port, self.timeout = port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or raw bytes); raises OSError / http.client errors on a cut."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            response = self.conn.getresponse()
            raw = response.read()
        except Exception:
            self.close()
            raise
        try:
            return response.status, json.loads(raw) if raw else None, raw
        except ValueError:
            return response.status, None, raw

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def open_ro(db):
    connection = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def unfinished(db):
    """Executions not in a terminal status (read from the file)."""
    with open_ro(db) as connection:
        return connection.execute("SELECT count(*) FROM executions WHERE status IN ('pending','running')").fetchone()[0]


def wait_drained(db, timeout, alive=lambda: True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if unfinished(db) == 0:
                return True
        except sqlite3.Error:
            pass
        alive()
        time.sleep(0.5)
    return False


def audit(db, acked, steps=None, loops=()):
    """Checks the file against what the API acknowledged (`acked`: idempotency key -> uid).

    Returns a dict: executions, lost (acknowledged, not in the file), stuck (not terminal),
    failed, duplicate_steps (a step whose task succeeded, or whose job finished done, more than
    once in one execution, or that was exited twice), duplicate_ends (an execution end stored twice), extra (executions
    in the file for a key never acknowledged that are not retries of one; informational),
    integrity (PRAGMA integrity_check). Executions of the definitions named in `loops` visit
    their states many times by design and are left out of the duplicate and step checks."""
    skip = " AND execution_id NOT IN (SELECT e.id FROM executions e JOIN definitions d ON d.id = e.definition_id " \
           "WHERE d.name IN (%s))" % ",".join("'%s'" % name for name in loops) if loops else ""
    with open_ro(db) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        rows = connection.execute("SELECT uid, idempotency_key, status FROM executions WHERE parent_id IS NULL").fetchall()
        by_uid = {uid: (key, status) for uid, key, status in rows}
        lost = [key for key, uid in acked.items() if uid not in by_uid]
        stuck = [uid for uid, (_, status) in by_uid.items() if status not in TERMINAL]
        failed = [uid for uid, (_, status) in by_uid.items() if status != "succeeded" and status in TERMINAL]
        acked_uids = set(acked.values())
        extra = [uid for uid in by_uid if uid not in acked_uids]
        duplicate_tasks = connection.execute(
            "SELECT count(*) FROM (SELECT execution_id, step, type FROM history WHERE type IN ('TaskSucceeded', 'StateExited')" + skip +
            " GROUP BY execution_id, step, type HAVING count(*) > 1)").fetchone()[0]
        duplicate_jobs = connection.execute(
            "SELECT count(*) FROM (SELECT execution_id, step FROM jobs WHERE state = 'done' AND kind = 'task'" + skip +
            " GROUP BY execution_id, step HAVING count(*) > 1)").fetchone()[0]
        duplicate_ends = connection.execute(
            "SELECT count(*) FROM (SELECT execution_id FROM history WHERE type IN "
            "('ExecutionSucceeded','ExecutionFailed','ExecutionTimedOut')" + skip + " GROUP BY execution_id HAVING count(*) > 1)").fetchone()[0]
        missing_steps = 0
        if steps:
            excluded = ",".join("'%s'" % name for name in loops) or "''"
            missing_steps = connection.execute(
                "SELECT count(*) FROM executions e JOIN definitions d ON d.id = e.definition_id "
                "WHERE e.status = 'succeeded' AND e.parent_id IS NULL AND d.name NOT IN (" + excluded + ") AND "
                "(SELECT count(DISTINCT step) FROM history h WHERE h.execution_id = e.id AND h.type = 'TaskSucceeded') != ?",
                (steps,)).fetchone()[0]
    return {
        "executions": len(by_uid), "lost": len(lost), "stuck": len(stuck), "failed": len(failed),
        "duplicate_transitions": duplicate_tasks + duplicate_jobs + duplicate_ends, "duplicate_tasks": duplicate_tasks,
        "duplicate_jobs": duplicate_jobs, "duplicate_ends": duplicate_ends, "missing_steps": missing_steps,
        "extra": len(extra), "integrity": integrity, "lost_keys": lost[:10], "stuck_uids": stuck[:10], "failed_uids": failed[:10],
    }


def figures(name, values):
    """One line of `key=value` figures, the first word the part's name."""
    log(name + " " + " ".join("%s=%s" % (key, value) for key, value in values.items()))


def finish(workdir, bad, keep=False):
    """Keeps the work directory of a failed (or --keep) run for a look, removes it otherwise;
    the process's exit status."""
    if bad or keep:
        log("# work directory kept: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if bad else 0
