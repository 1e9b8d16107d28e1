#!/usr/bin/env python3
"""SIGKILL loop under HTTP load (issue 21): N executions of a two-task HTTP workflow are
submitted over the API while the engine is SIGKILLed K times at random moments and started
again; after the last restart the queue drains and the SQLite file is checked.

    killloop.py --binary .build/debug/sluice --mode serve  --executions 500 --kills 3
    killloop.py --binary .build/release/sluice --mode split --executions 10000 --kills 20

With `--hostile H`, H of the executions run issue 21's poison pill instead (an HTTP task, then
a Pass loop nesting its data; it once crashed the process at every restart): each must end
failed on its own while the rest succeed and nothing crashes.

Modes: `serve` (one process) or `split` (`sluice server` + `sluice worker`; each kill picks
the server, the worker or both). Submits carry an idempotency key and are retried with it
after a cut connection, so an acknowledgement (HTTP 200/201 with an id) is what must survive.

Prints one `KILLLOOP` line of figures: acknowledged, lost, stuck, failed, duplicate
transitions, crashes (exits nobody asked for), 5xx answers, the target's request count
against the tasks' count (re-deliveries are allowed: at least once), and the last
incarnation's descriptors and RSS (each process) after the submits and after the drain. Exits 1 if any of lost,
stuck, duplicates, crashes or 5xx is non-zero."""
import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402

STEPS = 2


def definition(port, delay_ms):
    url = "http://127.0.0.1:%d/ok?delay=%d&" % (port, delay_ms)
    retry = [{"ErrorEquals": ["Sluice.Retryable"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}]
    return {
        "Comment": "reliability kill loop: two HTTP tasks",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Task", "Resource": "http", "Parameters": {"url": url + "step=1", "method": "GET"},
                      "ResultPath": None, "Retry": retry, "Next": "Second"},
            "Second": {"Type": "Task", "Resource": "http",
                       "Parameters": {"url.$": "States.Format('%sstep=2&i={}', $.i)" % url, "method": "POST",
                                      "body.$": "States.JsonToString($)"},
                       "ResultPath": None, "Retry": retry, "End": True},
        },
    }


def poison(port):
    """Issue 21's poison pill: an HTTP task, then a Pass state nesting its data four levels a
    round (it ended the process with SIGSEGV at every restart). The Choice's way out, never
    taken, is there because a machine with no reachable end is refused when loaded."""
    return {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": "http", "Parameters": {"url": "http://127.0.0.1:%d/ok" % port, "method": "GET"},
                     "ResultPath": None, "Next": "A"},
            "A": {"Type": "Pass", "Parameters": {"a.$": "States.Array(States.Array(States.Array(States.Array($.a))))"}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}], "Default": "A"},
            "Done": {"Type": "Succeed"},
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--mode", choices=["serve", "split"], default="serve")
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-gap", type=float, default=2.5, help="longest wait from a start to the next kill, s")
    parser.add_argument("--delay-ms", type=int, default=20, help="the target's answer delay, so kills cut tasks in flight")
    parser.add_argument("--hostile", type=int, default=0, help="how many of the executions run the poison pill instead")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="sluice-killloop-")
    db = os.path.join(workdir, "k.sqlite")
    definitions = os.path.join(workdir, "definitions")
    os.makedirs(definitions)
    harness.log("# killloop mode=%s executions=%d kills=%d seed=%d dir=%s" % (args.mode, args.executions, args.kills, seed, workdir))

    target = harness.Target(workdir)
    with open(os.path.join(definitions, "killloop.json"), "w") as handle:
        json.dump(definition(target.port, args.delay_ms), handle)
    with open(os.path.join(definitions, "poison.json"), "w") as handle:
        json.dump(poison(target.port), handle)
    # Poison pills spread evenly through the submits: each must fail on its own, never the process.
    hostile = set(range(0, args.executions, max(1, args.executions // args.hostile))[:args.hostile]) if args.hostile else set()
    port = harness.free_port()
    queues = ["--queues", "default:%d" % args.concurrency, "--lease-seconds", "10", "--grace", "2"]
    listen = ["--listen", "127.0.0.1:%d" % port]
    if args.mode == "serve":
        api = harness.Sluice(binary, ["serve", "--db", db, "--definitions", definitions] + queues + listen, workdir, "serve", port)
        processes = [api]
    else:
        api = harness.Sluice(binary, ["server", "--db", db, "--definitions", definitions] + listen, workdir, "server", port)
        worker = harness.Sluice(binary, ["worker", "--db", db] + queues, workdir, "worker")
        processes = [api, worker]
    for process in processes:
        process.start()

    acked = {}          # idempotency key -> uid
    lock = threading.Lock()
    state = {"epoch": 0, "epoch_start": time.time(), "ramp": 1.0, "5xx": 0, "4xx": 0, "cuts": 0, "other": 0, "stop": False, "restarting": threading.Event()}
    state["restarting"].set()  # set = up
    keys = ["kl-%d-%d" % (seed, index) for index in range(args.executions)]
    next_index = [0]

    def quota():
        # Submits are spread over the kill epochs, and within one over the time to its kill
        # (and a bit more), so every kill lands on submits and tasks in flight.
        epoch = state["epoch"]
        base = args.executions * epoch // (args.kills + 1)
        size = args.executions * (epoch + 1) // (args.kills + 1) - base
        ramp = min(1.0, (time.time() - state["epoch_start"]) / state["ramp"])
        return base + int(size * ramp)

    def client():
        submitter = harness.Submitter(port)
        while not state["stop"]:
            with lock:
                if next_index[0] >= args.executions:
                    break
                if next_index[0] >= quota():
                    index = None
                else:
                    index = next_index[0]
                    next_index[0] += 1
            if index is None:
                time.sleep(0.02)
                continue
            key = keys[index]
            if index in hostile:
                body = {"definition": "poison", "input": {"a": 1}, "idempotencyKey": key}
            else:
                body = {"definition": "killloop", "input": {"i": index}, "idempotencyKey": key}
            while not state["stop"]:
                state["restarting"].wait()
                try:
                    status, reply, raw = submitter.request("POST", "/v1/executions", body)
                except Exception:
                    with lock:
                        state["cuts"] += 1
                    time.sleep(0.05)
                    continue
                if status in (200, 201) and isinstance(reply, dict) and reply.get("id"):
                    with lock:
                        acked[key] = reply["id"]
                    break
                with lock:
                    if status >= 500:
                        state["5xx"] += 1
                        harness.log("# 5xx %d %s" % (status, raw[:200]))
                    elif status >= 400:
                        state["4xx"] += 1
                        harness.log("# 4xx %d %s" % (status, raw[:200]))
                    else:
                        state["other"] += 1
                time.sleep(0.05)
        submitter.close()

    gave_up = None
    started = time.time()
    submit_seconds = drain_seconds = 0.0
    drained = False
    before = after = [(None, None)] * len(processes)
    try:
        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        started = time.time()
        for thread in threads:
            thread.start()

        # The killer: K kills, each at a random moment after the previous start.
        for kill in range(args.kills):
            gap = rng.uniform(0.2, args.max_gap)
            state["ramp"] = gap * 1.3
            deadline = time.time() + gap
            while time.time() < deadline:
                for process in processes:
                    process.ensure_running()
                time.sleep(0.02)
            victims = processes if len(processes) == 1 else rng.choice([[processes[0]], [processes[1]], processes])
            if api in victims:
                state["restarting"].clear()
            for victim in victims:
                victim.kill()
            with lock:
                done = len(acked)
            harness.log("# kill %d/%d at %.1fs: %s (acknowledged so far %d)" % (kill + 1, args.kills, time.time() - started,
                                                                              "+".join(v.name for v in victims), done))
            time.sleep(rng.uniform(0.0, 0.3))
            for victim in victims:
                victim.start()
            state["restarting"].set()
            state["ramp"] = 1.0
            state["epoch_start"] = time.time()
            state["epoch"] += 1

        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
                for process in processes:
                    process.ensure_running()
        submit_seconds = time.time() - started
        # Leaks: each process's descriptors and RSS after the submits and after the drain.
        before = [harness.proc_stats(process.proc.pid) for process in processes]

        def keep_alive():
            for process in processes:
                process.ensure_running()

        drained = harness.wait_drained(db, args.drain_timeout, keep_alive)
        drain_seconds = time.time() - started
        time.sleep(1)
        after = [harness.proc_stats(process.proc.pid) for process in processes]
    except harness.GaveUp as error:
        gave_up = str(error)
        state["stop"] = True
        state["restarting"].set()
    exits = [process.terminate() for process in processes]
    hits = target.stop()
    poisoned = {keys[index] for index in hostile}
    result = harness.audit(db, {key: uid for key, uid in acked.items() if key not in poisoned}, steps=STEPS, loops=("poison",))
    hostile_result = harness.audit(db, {key: uid for key, uid in acked.items() if key in poisoned})
    # audit() counts every execution in the file; take the other kind out of each figure.
    with harness.open_ro(db) as connection:
        hostile_statuses = dict(connection.execute(
            "SELECT e.status, count(*) FROM executions e JOIN definitions d ON d.id = e.definition_id WHERE d.name = 'poison' "
            "GROUP BY e.status").fetchall())
        other_failed = connection.execute(
            "SELECT count(*) FROM executions e JOIN definitions d ON d.id = e.definition_id WHERE d.name != 'poison' "
            "AND e.status != 'succeeded'").fetchone()[0]
    crashes = sum(len(process.unexpected) for process in processes)
    for process in processes:
        for incarnation, code, tail in process.unexpected[:3]:
            harness.log("# CRASH %s incarnation %d exit %s; log tail:\n%s" % (process.name, incarnation, code, tail))
    unclean = [code for code in exits if code not in (0, None)]
    figures = {
        "mode": args.mode, "executions": args.executions, "kills": args.kills, "processes_killed": sum(p.kills for p in processes),
        "acknowledged": len(acked), "lost": result["lost"] + hostile_result["lost"], "stuck": result["stuck"], "failed": other_failed,
        "duplicate_transitions": result["duplicate_transitions"], "missing_steps": result["missing_steps"],
        "hostile": len(hostile), "hostile_ended": "/".join("%s:%d" % item for item in sorted(hostile_statuses.items())) or "-",
        "crashes": crashes, "5xx": state["5xx"], "4xx": state["4xx"], "cut_requests": state["cuts"],
        "unclean_exit": len(unclean), "integrity": result["integrity"],
        "target_requests": hits, "tasks": STEPS * (len(acked) - len(poisoned)) + len(poisoned),
        "redelivered": (hits - STEPS * (len(acked) - len(poisoned)) - len(poisoned)) if hits is not None else "?",
        "fds": ",".join("%s:%s->%s" % (p.name, b[0], a[0]) for p, b, a in zip(processes, before, after)),
        "rss_kb": ",".join("%s:%s->%s" % (p.name, b[1], a[1]) for p, b, a in zip(processes, before, after)),
        "submit_s": "%.1f" % submit_seconds, "drain_s": "%.1f" % drain_seconds, "drained": int(drained), "seed": seed,
    }
    if gave_up:
        figures["gave_up"] = '"%s"' % gave_up
    harness.figures("KILLLOOP", figures)
    if result["lost_keys"]:
        harness.log("# lost keys: %s" % result["lost_keys"])
    if result["stuck_uids"]:
        harness.log("# stuck: %s" % result["stuck_uids"])
    if other_failed:
        with harness.open_ro(db) as connection:
            harness.log("# failed: %s" % connection.execute(
                "SELECT e.uid, e.error, substr(e.cause, 1, 120) FROM executions e JOIN definitions d ON d.id = e.definition_id "
                "WHERE d.name != 'poison' AND e.status != 'succeeded' LIMIT 5").fetchall())
    bad = (gave_up or result["lost"] or result["stuck"] or result["duplicate_transitions"] or crashes or state["5xx"]
           or result["integrity"] != "ok" or len(acked) != args.executions or other_failed or result["missing_steps"]
           or sum(count for status, count in hostile_statuses.items() if status not in harness.TERMINAL)
           or hostile_statuses.get("succeeded"))
    return harness.finish(workdir, bad, args.keep)


if __name__ == "__main__":
    sys.exit(main())
