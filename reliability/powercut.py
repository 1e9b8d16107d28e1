#!/usr/bin/env python3
"""Power cut (issue 21): drops the writes not yet synced and checks what SQLite recovers.

A workload runs `sluice serve` under reliability/powercut/shim.c (built here with gcc), which
records every write, sync, truncation, creation, unlink and rename of the database files, in
order. The workload submits N executions of an HTTP workflow (each acknowledgement noted with
the log's length at that moment), restarts the server cleanly once (a checkpoint, the WAL
removed and made again) and kills it once with SIGKILL, and lets the queue drain.

Then, for C cut points in the log, the files are rebuilt as a power loss there would leave
them: everything synced, and of the writes after a file's last sync, either none, a random
subset of whole writes, or a random subset of 512-byte sectors (torn writes), in turn. Each
rebuilt file is opened by `sluice migrate` (WAL recovery) and checked: PRAGMA integrity_check,
and every submit acknowledged before the cut must be there. Every tenth one is also served
by `sluice serve` until its queue drains (nothing stuck after the cut).

    powercut.py --binary .build/debug/sluice --executions 150 --cuts 20

Prints `POWERCUT cuts= rebuilt_files= corrupt= lost_acks= unopenable= served= stuck_after_serve= ...`;
exits 1 if corrupt, lost_acks, unopenable or stuck_after_serve is non-zero."""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import harness  # noqa: E402
from killloop import definition  # noqa: E402

HEAD = struct.Struct("<cIqq")


def build_shim(out_dir):
    """Compiles the recorder with gcc (once per source change)."""
    source = os.path.join(HERE, "powercut", "shim.c")
    target = os.path.join(out_dir, "powercut.so")
    if not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(source):
        os.makedirs(out_dir, exist_ok=True)
        subprocess.check_call(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", target, source, "-ldl", "-lpthread"])
    return target


def read_log(path):
    """The records: (op, path, offset, data, end offset in the log)."""
    records = []
    with open(path, "rb") as handle:
        blob = handle.read()
    position = 0
    while position + HEAD.size <= len(blob):
        op, path_length, offset, length = HEAD.unpack_from(blob, position)
        start = position + HEAD.size
        name = blob[start:start + path_length].decode()
        data = blob[start + path_length:start + path_length + max(length, 0)]
        if len(data) < max(length, 0):
            break  # a record cut short by the kill: it never completed
        position = start + path_length + max(length, 0)
        records.append((op.decode(), name, offset, data, position))
    return records


class Disk:
    """Files as a power loss leaves them: `durable` holds what a sync made safe, `pending` the
    writes since each file's last sync (in order)."""

    def __init__(self, broken_sync_suffix=None):
        self.durable = {}
        self.pending = {}
        # Self-check: syncs of files ending so are ignored (a disk that lies about fsync).
        self.broken_sync_suffix = broken_sync_suffix

    def apply(self, record):
        op, name, offset, data, _ = record
        if op == "O":
            self.durable.setdefault(name, bytearray())
            self.pending.setdefault(name, [])
        elif op == "W":
            self.durable.setdefault(name, bytearray())
            self.pending.setdefault(name, []).append((offset, data))
        elif op == "S" and not (self.broken_sync_suffix and name.endswith(self.broken_sync_suffix)):
            image = self.durable.setdefault(name, bytearray())
            for at, data in self.pending.get(name, []):
                write_at(image, at, data)
            self.pending[name] = []
        elif op == "T":
            # Metadata is journaled: a truncation is durable when made; writes beyond the new end
            # that were not synced are gone with it.
            image = self.durable.setdefault(name, bytearray())
            del image[offset:]
            self.pending[name] = [(at, data[:max(0, offset - at)]) for at, data in self.pending.get(name, []) if at < offset]
        elif op == "U":
            self.durable.pop(name, None)
            self.pending.pop(name, None)
        elif op == "R":
            target = data.decode()
            self.durable[target] = self.durable.pop(name, bytearray())
            self.pending[target] = self.pending.pop(name, [])

    def image(self, name, mode, rng):
        """The file after the cut. mode 0: unsynced writes lost; 1: a random subset of whole
        writes landed; 2: a random subset of 512-byte sectors landed (torn writes)."""
        image = bytearray(self.durable[name])
        for at, data in self.pending.get(name, []):
            if mode == 1 and rng.random() < 0.5:
                write_at(image, at, data)
            elif mode == 2:
                for sector in range(0, len(data), 512):
                    if rng.random() < 0.5:
                        write_at(image, at + sector, data[sector:sector + 512])
        return image


def write_at(image, at, data):
    if len(image) < at:
        image.extend(b"\0" * (at - len(image)))
    image[at:at + len(data)] = data


def workload(args, binary, shim, workdir):
    """Runs serve under the recorder; returns (acks: key -> (uid, log length), db path, log path,
    crashes, the HTTP target, still up so rebuilt files can be served)."""
    data_dir = os.path.join(workdir, "data") + "/"
    os.makedirs(data_dir)
    db = os.path.join(data_dir, "p.sqlite")
    log_path = os.path.join(workdir, "ops.log")
    definitions = os.path.join(workdir, "definitions")
    os.makedirs(definitions)
    target = harness.Target(workdir)
    with open(os.path.join(definitions, "killloop.json"), "w") as handle:
        json.dump(definition(target.port, 5), handle)
    port = harness.free_port()
    env = dict(os.environ, LD_PRELOAD=shim, POWERCUT_DIR=data_dir, POWERCUT_LOG=log_path)
    serve = harness.Sluice(binary, ["serve", "--db", db, "--definitions", definitions, "--queues", "default:16",
                                    "--listen", "127.0.0.1:%d" % port, "--lease-seconds", "5", "--grace", "2"],
                           workdir, "serve", port, env=env)
    serve.start()
    acks = {}
    lock = threading.Lock()
    pad = "p" * args.pad_bytes
    counter = [0]
    up = threading.Event()
    up.set()

    def client():
        submitter = harness.Submitter(port)
        while True:
            with lock:
                index = counter[0]
                counter[0] += 1
            if index >= args.executions:
                break
            key = "pc-%d" % index
            body = {"definition": "killloop", "input": {"i": index, "pad": pad}, "idempotencyKey": key}
            while True:
                up.wait()
                try:
                    status, reply, _ = submitter.request("POST", "/v1/executions", body)
                except Exception:
                    time.sleep(0.05)
                    continue
                if status in (200, 201) and isinstance(reply, dict):
                    # Taken after the answer arrived: every record the acknowledgement depends on
                    # is before this length (later ones may be counted too, which only weakens
                    # the check, never fakes a loss).
                    with lock:
                        acks[key] = (reply["id"], os.path.getsize(log_path))
                    break
                time.sleep(0.05)
        submitter.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    # A clean restart at a third of the submits, a SIGKILL at two thirds.
    for fraction, how in ((1 / 3, "term"), (2 / 3, "kill")):
        while len(acks) < args.executions * fraction and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        up.clear()
        if how == "term":
            serve.terminate()
        else:
            serve.kill()
        serve.start()
        up.set()
    for thread in threads:
        thread.join()
    harness.wait_drained(db, 300, serve.check)
    serve.terminate()
    crashes = len(serve.unexpected)
    for incarnation, code, tail in serve.unexpected:
        harness.log("# CRASH serve incarnation %d exit %s:\n%s" % (incarnation, code, tail))
    return acks, db, log_path, crashes, target


def check_cut(binary, files, acked, serve_it, workdir):
    """Writes the rebuilt files, opens them with sluice and checks them. Returns a dict."""
    cut_dir = tempfile.mkdtemp(prefix="cut-", dir=workdir) + "/"
    db = None
    for name, image in files.items():
        path = os.path.join(cut_dir, os.path.basename(name))
        with open(path, "wb") as handle:
            handle.write(image)
        if name.endswith(".sqlite"):
            db = path
    result = {"corrupt": 0, "lost": 0, "unopenable": 0, "served": 0, "stuck": 0, "detail": ""}
    if db is None:
        # The cut came before the database file existed: nothing can have been acknowledged.
        result["lost"] = len(acked)
        shutil.rmtree(cut_dir, ignore_errors=True)
        return result
    opened = subprocess.run([binary, "migrate", "--db", db], capture_output=True, text=True, timeout=120)
    if opened.returncode != 0:
        result["unopenable"] = 1
        result["detail"] = "sluice migrate: exit %d: %s" % (opened.returncode, (opened.stderr or opened.stdout)[-300:])
    try:
        connection = sqlite3.connect(db, timeout=30)
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        uids = {row[0] for row in connection.execute("SELECT uid FROM executions")}
        connection.close()
    except sqlite3.Error as error:
        integrity, uids = "error: %s" % error, set()
    if integrity != "ok":
        result["corrupt"] = 1
        result["detail"] += " integrity: %s" % integrity[:300]
    missing = [key for key, uid in acked.items() if uid not in uids]
    result["lost"] = len(missing)
    if missing:
        result["detail"] += " lost: %s" % missing[:5]
    if serve_it and not result["unopenable"] and not result["corrupt"]:
        port = harness.free_port()
        serve = harness.Sluice(binary, ["serve", "--db", db, "--listen", "127.0.0.1:%d" % port, "--queues", "default:16"],
                               cut_dir, "serve-cut", port)
        serve.start()
        drained = harness.wait_drained(db, 120, serve.check)
        serve.terminate()
        result["served"] = 1
        if not drained:
            result["stuck"] = harness.unfinished(db)
            result["detail"] += " stuck after serving: %d" % result["stuck"]
        if serve.unexpected:
            result["unopenable"] = 1
            result["detail"] += " serve crashed: %s" % serve.unexpected[0][2][-300:]
    shutil.rmtree(cut_dir, ignore_errors=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--executions", type=int, default=150)
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--pad-bytes", type=int, default=20000, help="input padding, so the WAL grows and checkpoints happen")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    binary = os.path.abspath(args.binary)
    shim = build_shim(os.path.join(HERE, "build"))
    workdir = tempfile.mkdtemp(prefix="sluice-powercut-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    harness.log("# powercut executions=%d cuts=%d seed=%d dir=%s" % (args.executions, args.cuts, seed, workdir))
    started = time.time()
    acks, db, log_path, crashes, target = workload(args, binary, shim, workdir)
    records = read_log(log_path)
    final = harness.audit(db, {key: uid for key, (uid, _) in acks.items()})
    syncs = [index for index, record in enumerate(records) if record[0] == "S"]
    harness.log("# workload: %d acknowledged, %d records, %d syncs, %.1f MB logged, %.1f s; final file: lost=%d stuck=%d integrity=%s"
                % (len(acks), len(records), len(syncs), os.path.getsize(log_path) / 1e6, time.time() - started,
                   final["lost"], final["stuck"], final["integrity"]))
    # Cut points: a third right after a sync (an acknowledgement may just have gone out), a third
    # inside checkpoints (writes to the database file itself), a third anywhere.
    after_sync = [index + 1 for index in syncs]
    in_checkpoint = [index + 1 for index, record in enumerate(records) if record[0] == "W" and record[1].endswith(".sqlite")]
    anywhere = list(range(1, len(records) + 1))
    points = set(rng.sample(after_sync, min(len(after_sync), args.cuts // 3)))
    points |= set(rng.sample(in_checkpoint, min(len(in_checkpoint), args.cuts // 3)))
    while len(points) < min(args.cuts, len(anywhere)):
        points.add(rng.choice(anywhere))
    points = sorted(points)
    disk = Disk()
    applied = 0
    totals = {"cuts": 0, "rebuilt_files": 0, "corrupt": 0, "lost_acks": 0, "unopenable": 0, "served": 0, "stuck_after_serve": 0,
              "acks_checked": 0}
    for number, point in enumerate(points):
        while applied < point:
            disk.apply(records[applied])
            applied += 1
        cut_offset = records[point - 1][4]
        acked = {key: uid for key, (uid, length) in acks.items() if length <= cut_offset}
        mode = number % 3
        files = {name: disk.image(name, mode, rng) for name in disk.durable}
        result = check_cut(binary, files, acked, serve_it=(number % 10 == 9), workdir=workdir)
        totals["cuts"] += 1
        totals["rebuilt_files"] += len(files)
        totals["corrupt"] += result["corrupt"]
        totals["lost_acks"] += result["lost"]
        totals["unopenable"] += result["unopenable"]
        totals["served"] += result["served"]
        totals["stuck_after_serve"] += result["stuck"]
        totals["acks_checked"] += len(acked)
        if result["detail"]:
            harness.log("# cut %d at record %d/%d (mode %d, %d acks): %s" % (number, point, len(records), mode, len(acked), result["detail"]))
    # Self-check: the same replay on a disk whose WAL syncs did nothing must show a loss, or
    # this harness could not see one. Cuts right after WAL syncs, where the latest commits are
    # in the WAL only (a checkpoint would have moved older ones into the synced database file).
    liar = Disk(broken_sync_suffix="-wal")
    wal_syncs = [index + 1 for index in syncs if records[index][1].endswith("-wal")]
    probes = sorted(rng.sample(wal_syncs, min(5, len(wal_syncs))))
    applied, blind_lost, blind_bad = 0, 0, 0
    for point in probes:
        while applied < point:
            liar.apply(records[applied])
            applied += 1
        cut_offset = records[point - 1][4]
        files = {name: liar.image(name, 0, rng) for name in liar.durable}
        blind = check_cut(binary, files, {key: uid for key, (uid, length) in acks.items() if length <= cut_offset},
                          serve_it=False, workdir=workdir)
        blind_lost += blind["lost"]
        blind_bad += blind["corrupt"] + blind["unopenable"]
    selfcheck = "detected" if (blind_lost or blind_bad) else "BLIND"
    target.stop()
    figures = dict(totals)
    figures.update({"acknowledged": len(acks), "records": len(records), "syncs": len(syncs), "workload_crashes": crashes,
                    "final_lost": final["lost"], "final_stuck": final["stuck"], "final_duplicates": final["duplicate_transitions"],
                    "selfcheck_lying_fsync": "%s(lost=%d,corrupt=%d,probes=%d)" % (selfcheck, blind_lost, blind_bad, len(probes)),
                    "seconds": "%.0f" % (time.time() - started), "seed": seed})
    harness.figures("POWERCUT", figures)
    bad = (totals["corrupt"] or totals["lost_acks"] or totals["unopenable"] or totals["stuck_after_serve"] or crashes
           or final["lost"] or final["stuck"] or final["duplicate_transitions"] or len(acks) != args.executions
           or selfcheck != "detected")
    return harness.finish(workdir, bad, args.keep)


if __name__ == "__main__":
    sys.exit(main())
