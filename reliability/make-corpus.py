#!/usr/bin/env python3
"""Writes Tests/Corpus/malformed/: one JSON file per malformed request or definition that the
API must refuse with a 4xx and a JSON error body, without a 5xx, a hang or a crash, and
without losing anything stored (issue 21). Tests/SluiceAPITests/MalformedCorpusTests.swift runs
them against a real server on 127.0.0.1, port 0.

    python3 reliability/make-corpus.py          # rewrites the folder (deterministic)

A case file holds:
  id, description
  method, path, headers            the request (Host, Connection: close and Content-Length are
                                   added unless the case sets them or sends raw bytes)
  body | body_base64 | body_parts  the body: text, bytes, or segments [{"text", "repeat"}]
                                   (so a 2 MiB body or 100,000 brackets stay a small file)
  raw_parts                        instead of the above: the exact bytes sent on the socket, as
                                   segments [{"base64", "repeat"}]
  half_close                       shut the write side after sending (a truncated body)
  expect                           allowed outcomes: "4xx", "2xx", "close" (the server closed
                                   the connection without an answer; only for broken HTTP
                                   framing, where there is no request to answer)
  status                           when set, the exact status expected
  json_error                       a 4xx must carry a JSON object with an "error" member
  note                             why a case allows "2xx" too: input that is odd but harmless,
                                   where issue 21 does not ask for a refusal (the case still
                                   fails on a 5xx, a hang, a crash or a 4xx without JSON)
"""
LENIENT = ("2xx", "4xx")
import base64
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Corpus", "malformed")
CASES = []
JSON_HEADERS = {"Content-Type": "application/json"}
YAML_HEADERS = {"Content-Type": "application/yaml"}


def case(slug, description, method="POST", path="/v1/executions", body=None, headers=None, expect=("4xx",),
         status=None, json_error=True, body_bytes=None, parts=None, raw=None, half_close=False, note=None):
    item = {"id": "%03d-%s" % (len(CASES) + 1, slug), "description": description}
    if note:
        item["note"] = note
    if raw is not None:
        segments = raw if isinstance(raw, list) else [(raw, 1)]
        item["raw_parts"] = [{"base64": base64.b64encode(data).decode(), "repeat": repeat} for data, repeat in segments]
    else:
        item["method"] = method
        item["path"] = path
        item["headers"] = dict(JSON_HEADERS if headers is None else headers)
        if body_bytes is not None:
            item["body_base64"] = base64.b64encode(body_bytes).decode()
        elif parts is not None:
            item["body_parts"] = [{"text": text, "repeat": repeat} for text, repeat in parts]
        elif body is not None:
            item["body"] = body if isinstance(body, str) else json.dumps(body)
    if half_close:
        item["half_close"] = True
    item["expect"] = list(expect)
    if status is not None:
        item["status"] = status
    item["json_error"] = json_error
    CASES.append(item)


def submit(slug, description, body, **kw):
    case("submit-" + slug, description, body=body, **kw)


def asl(slug, description, machine, name="corpus_asl", **kw):
    path = "/v1/definitions" + ("?name=" + name if name is not None else "")
    case("asl-" + slug, description, path=path, body=machine if isinstance(machine, str) else json.dumps(machine), **kw)


def tasklist(slug, description, document, **kw):
    case("tasklist-" + slug, description, path="/v1/definitions",
         body=document if isinstance(document, str) else json.dumps(document), **kw)


def yaml(slug, description, text, path="/v1/definitions", **kw):
    case("yaml-" + slug, description, path=path, body=text, headers=YAML_HEADERS, **kw)


def http_task(uri="http://127.0.0.1:9/x", **extra):
    task = {"name": "call", "type": "http", "http": dict({"uri": uri, "method": "GET"}, **extra)}
    return task


def good_tasklist(**overrides):
    document = {"name": "corpus_tl", "tasks": [http_task()], "inputParameters": ["device_id"]}
    document.update(overrides)
    return document


def good_machine(**states):
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    machine["States"].update(states)
    return machine


def machine_with(state):
    return {"StartAt": "A", "States": {"A": state}}


# ---------------------------------------------------------------- /v1/executions: not JSON
TOLERATED = {"trailing-comma": "Foundation's parser tolerates a trailing comma; harmless"}
for slug, text, why in [
    ("open-brace", "{", "an object never closed"),
    ("missing-value", '{"definition":}', "a key without a value"),
    ("trailing-comma", '{"definition":"noop",}', "a trailing comma"),
    ("single-quotes", "{'definition':'noop'}", "single-quoted strings"),
    ("unquoted-key", '{definition:"noop"}', "an unquoted key"),
    ("comment", '{"definition":"noop" /* c */}', "a comment"),
    ("trailing-garbage", '{"definition":"noop"} x', "text after the document"),
    ("two-documents", '{"definition":"noop"}{"definition":"noop"}', "two documents"),
    ("nan", '{"definition":"noop","priority":NaN}', "NaN is not JSON"),
    ("infinity", '{"definition":"noop","priority":Infinity}', "Infinity is not JSON"),
    ("bare-word", "nul", "a truncated literal"),
    ("only-bracket", "[", "an array never closed"),
    ("unterminated-string", '{"definition":"noop', "a string never closed"),
    ("bad-escape", '{"definition":"no\\qop"}', "an escape JSON does not have"),
    ("short-unicode-escape", '{"definition":"\\u12"}', "a \\u escape with two digits"),
    ("raw-newline-in-string", '{"definition":"no\nop"}', "an unescaped control character in a string"),
    ("leading-zero", '{"definition":"noop","priority":01}', "a number with a leading zero"),
    ("plus-number", '{"definition":"noop","priority":+1}', "a number with a plus sign"),
    ("hex-number", '{"definition":"noop","priority":0x10}', "a hexadecimal number"),
    ("dot-number", '{"definition":"noop","priority":.5}', "a number starting with a dot"),
    ("yaml-body", "definition: noop\n", "YAML where JSON is expected"),
    ("xml-body", "<definition>noop</definition>", "XML"),
    ("bom-only", "\ufeff", "a byte-order mark alone"),
    ("whitespace-only", "   \n\t ", "whitespace only"),
]:
    if slug in TOLERATED:
        submit("json-" + slug, "submit body that is not JSON: " + why, text, expect=LENIENT, note=TOLERATED[slug])
    else:
        submit("json-" + slug, "submit body that is not JSON: " + why, text, status=400)

# ---------------------------------------------------------------- /v1/executions: not an object
for slug, text in [("null", "null"), ("array", "[]"), ("array-of-object", '[{"definition":"noop"}]'),
                   ("number", "123"), ("string", '"noop"'), ("true", "true")]:
    submit("toplevel-" + slug, "submit body that is JSON but not an object: " + text, text, status=400)
submit("empty-object", "submit without a definition", "{}", status=400)
submit("empty-body", "submit with an empty body", "", status=400)

# ---------------------------------------------------------------- /v1/executions: field types
for field, values in [
    ("definition", [1, True, None, [], {}, ""]),
    ("version", ["1", 0, -1, 1.5, True, 1e300, 99999999999999999999]),
    ("queue", [1, [], {}, True]),
    ("namespace", [1, [], {}, False]),
    ("idempotencyKey", [1, [], {}, True]),
    ("priority", ["high", True, 1.5, 1e300, -1e300, 99999999999999999999, -99999999999999999999, [], {}]),
    ("startAt", ["tomorrow", 1, "2026-13-45T99:99:99Z", "", "0000-00-00T00:00:00Z", []]),
]:
    for index, value in enumerate(values):
        body = {"definition": "noop", field: value}
        if field == "definition":
            body = {"definition": value}
        expect = ("4xx",)
        submit("type-%s-%d" % (field.lower(), index), "submit with /%s = %s" % (field, json.dumps(value)),
               json.dumps(body), expect=expect)
submit("priority-1e400", "a priority beyond a double's range", '{"definition":"noop","priority":1e400}')
submit("priority-huge-digits", "a priority of 400 digits", '{"definition":"noop","priority":' + "9" * 400 + "}")

# ---------------------------------------------------------------- /v1/executions: unknown fields
for field in ["bogus", "Definition", "inputs", "__proto__", "", "definition\u0000", "id", "status"]:
    submit("unknown-field-%d" % len(CASES), "submit with an unknown field %r" % field,
           json.dumps({"definition": "noop", field: 1}), status=400)

# ---------------------------------------------------------------- /v1/executions: names and keys
for slug, queue in [("empty", ""), ("space", " "), ("newline", "a\nb"), ("carriage-return", "a\rb"), ("nul", "a\u0000b"),
                    ("only-nul", "\u0000"), ("tab", "\t"), ("escape-char", "a\u001bb"), ("long", "q" * 10000),
                    ("trailing-newline", "default\n")]:
    submit("queue-" + slug, "a queue name that is %s (an execution no pool can ever claim)" % slug,
           json.dumps({"definition": "noop", "queue": queue}), status=400)
for slug, name in [("nul-suffix", "noop\u0000xyz"), ("nul-prefix", "\u0000noop"), ("newline", "noop\n"),
                   ("traversal", "../noop"), ("long", "n" * 10000), ("space", " noop")]:
    submit("definition-" + slug, "a definition name that is %s (must not run noop)" % slug,
           json.dumps({"definition": name}))
for slug, value in [("nul", "ns\u0000x"), ("newline", "a\nb"), ("long", "n" * 10000)]:
    submit("namespace-" + slug, "a namespace that is %s" % slug, json.dumps({"definition": "noop", "namespace": value}), expect=LENIENT,
           note="issue 21: a NUL must not cut a namespace (bind it with its length or refuse it); long or multi-line is harmless")
for slug, value in [("nul", "k\u0000A"), ("long", "k" * 10000), ("empty", "")]:
    submit("idempotency-" + slug, "an idempotency key that is %s" % slug, json.dumps({"definition": "noop", "idempotencyKey": value}),
           expect=LENIENT, note="issue 21: NUL keys must not collide (bind with length or refuse); empty or long keys are harmless")

# ---------------------------------------------------------------- /v1/executions: encoding, size, depth
submit("utf8-invalid-byte", "invalid UTF-8 (0xFF) inside a string", None, body_bytes=b'{"definition":"noop","input":{"a":"\xff"}}')
submit("utf8-overlong", "an overlong UTF-8 encoding of '/'", None, body_bytes=b'{"definition":"noop","input":{"a":"\xc0\xaf"}}')
submit("utf8-truncated", "a UTF-8 sequence cut short", None, body_bytes=b'{"definition":"noop","input":{"a":"\xe2\x82"}}')
submit("utf8-surrogate-bytes", "a UTF-16 surrogate encoded as UTF-8", None, body_bytes=b'{"definition":"noop","input":{"a":"\xed\xa0\x80"}}')
submit("utf8-invalid-in-key", "invalid UTF-8 in a key", None, body_bytes=b'{"definition":"noop","input":{"\xfe":1}}')
submit("utf16-body", "a UTF-16 body", None, body_bytes='{"definition":"noop"}'.encode("utf-16"), expect=LENIENT,
       note="Foundation detects UTF-16 (RFC 4627); harmless")
submit("lone-surrogate-escape", "a lone surrogate escape", '{"definition":"noop","input":{"a":"\\ud800"}}')
submit("raw-nul-byte", "a raw NUL byte in the body", None, body_bytes=b'{"definition":"noop"}\x00')
submit("deep-arrays", "input nested 100,000 arrays deep", None,
       parts=[('{"definition":"noop","input":', 1), ("[", 100000), ("]", 100000), ("}", 1)])
submit("deep-objects", "input nested 50,000 objects deep", None,
       parts=[('{"definition":"noop","input":', 1), ('{"a":', 50000), ("1", 1), ("}", 50000), ("}", 1)])
submit("deep-unclosed", "input opened 200,000 arrays deep, never closed", None, parts=[('{"definition":"noop","input":', 1), ("[", 200000)])
submit("oversized-body", "a body of 2 MiB (the cap is 1 MiB)", None,
       parts=[('{"definition":"noop","input":{"a":"', 1), ("x", 2 * 1024 * 1024), ('"}}', 1)], status=413)
submit("input-huge-number", "input holding a number beyond a double's range", '{"definition":"noop","input":{"n":1e999}}')
submit("oversized-input-payload", "input just under the body cap, over the 256 KiB payload limit", None, expect=LENIENT,
       note="issue 21 bounds values during evaluation: refused at submit or failing the execution, both fine",
       parts=[('{"definition":"noop","input":{"a":"', 1), ("y", 600 * 1024), ('"}}', 1)])
case("submit-content-length-lies-high", "Content-Length larger than the body, then the client closes its side: a truncated body",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
         b'{"definition":"noop"', half_close=True, status=400)
case("submit-chunked-truncated", "a chunked body cut in the middle of a chunk",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
         b'40\r\n{"definition":"noop"', half_close=True, expect=("4xx", "close"), json_error=False)
case("submit-chunked-bad-size", "a chunk size that is not hexadecimal",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
     expect=("4xx", "close"), json_error=False)
case("submit-chunked-oversized", "a chunked body of 2 MiB in 64 KiB chunks (no Content-Length to refuse it early)",
     raw=[(b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", 1),
          (b"1000\r\n" + b"x" * 0x1000 + b"\r\n", 512), (b"0\r\n\r\n", 1)], status=413)
case("submit-content-length-huge", "a Content-Length of 10 GB with a small body",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n"
         b"Connection: close\r\n\r\n{}", half_close=True)
case("submit-content-length-negative", "a negative Content-Length",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n{}",
     expect=("4xx", "close"), json_error=False)
case("submit-content-length-text", "a Content-Length that is not a number",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}",
     expect=("4xx", "close"), json_error=False)
case("submit-content-length-conflict", "two different Content-Length headers",
     raw=b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{}",
     expect=("4xx", "close"), json_error=False)

# ---------------------------------------------------------------- cancel, resume, get, list
for slug, method, path, body, expected in [
    ("cancel-unknown", "POST", "/v1/executions/nope/cancel", "{}", 404),
    ("cancel-bad-json", "POST", "/v1/executions/nope/cancel", "{", 400),
    ("cancel-unknown-field", "POST", "/v1/executions/nope/cancel", '{"why":"x"}', 400),
    ("cancel-reason-number", "POST", "/v1/executions/nope/cancel", '{"reason":5}', 400),
    ("resume-unknown", "POST", "/v1/executions/nope/resume", "{}", 404),
    ("resume-from-number", "POST", "/v1/executions/nope/resume", '{"from":5}', 400),
    ("resume-array", "POST", "/v1/executions/nope/resume", "[]", 400),
    ("get-unknown", "GET", "/v1/executions/nope", None, 404),
    ("get-nul", "GET", "/v1/executions/%00", None, None),
    ("get-traversal", "GET", "/v1/executions/..%2F..%2Fetc%2Fpasswd", None, 404),
    ("get-long-id", "GET", "/v1/executions/" + "a" * 4000, None, 404),
    ("history-unknown", "GET", "/v1/executions/nope/history", None, 404),
    ("events-unknown", "GET", "/v1/executions/nope/events", None, 404),
    ("list-limit-zero", "GET", "/v1/executions?limit=0", None, 400),
    ("list-limit-negative", "GET", "/v1/executions?limit=-1", None, 400),
    ("list-limit-text", "GET", "/v1/executions?limit=abc", None, 400),
    ("list-limit-huge", "GET", "/v1/executions?limit=99999999999999999999999", None, 400),
    ("list-limit-float", "GET", "/v1/executions?limit=1e3", None, 400),
    ("list-limit-over", "GET", "/v1/executions?limit=1001", None, 400),
    ("list-status-bogus", "GET", "/v1/executions?status=bogus", None, 400),
    ("list-status-nul", "GET", "/v1/executions?status=running%00", None, 400),
    ("list-unknown-parameter", "GET", "/v1/executions?bogus=1", None, 400),
    ("definition-version-zero", "GET", "/v1/definitions/noop/0", None, 400),
    ("definition-version-negative", "GET", "/v1/definitions/noop/-1", None, 400),
    ("definition-version-text", "GET", "/v1/definitions/noop/abc", None, 400),
    ("definition-version-huge", "GET", "/v1/definitions/noop/99999999999999999999", None, 400),
    ("definition-unknown", "GET", "/v1/definitions/nope", None, 404),
    ("definition-traversal", "GET", "/v1/definitions/..%2F..%2Fetc%2Fpasswd", None, 404),
    ("definition-nul", "GET", "/v1/definitions/noop%00x", None, None),
    ("unknown-route", "GET", "/v1/nothing-here", None, 404),
    ("unknown-root", "GET", "/nothing", None, 404),
    ("dot-segments", "GET", "/v1/../../etc/passwd", None, 404),
]:
    case("route-" + slug, "%s %s" % (method, path[:80]), method=method, path=path, body=body,
         headers=JSON_HEADERS if body is not None else {}, status=expected)

# ---------------------------------------------------------------- wrong methods
for method, path in [("TRACE", "/"), ("TRACE", "/v1/executions"), ("DELETE", "/v1/executions"), ("PUT", "/v1/executions"),
                     ("PATCH", "/v1/executions"), ("DELETE", "/v1/definitions"), ("PUT", "/v1/definitions"),
                     ("GET", "/v1/executions/nope/cancel"), ("DELETE", "/v1/queues"), ("GET", "/v1/queues/default/pause"),
                     ("POST", "/v1/health"), ("POST", "/v1/openapi.yaml"), ("PUT", "/metrics"), ("DELETE", "/status"),
                     ("GET", "/api/v1/workflow/noop"), ("PUT", "/api/v1/metadata/workflows"),
                     ("GET", "/v1/activities/x/claim")]:
    case("method-%s-%s" % (method.lower(), path.strip("/").replace("/", "-") or "root"), "%s %s: a method the route does not have" % (method, path),
         method=method, path=path, headers={}, status=405 if method == "TRACE" and path != "/" else None)
case("method-garbage", "a method that is no token", raw=b"G@T /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
     expect=("4xx", "close"), json_error=False)
case("method-lowercase", "a lower-case method", method="get", path="/v1/health", headers={}, expect=("4xx",), json_error=False)

# ---------------------------------------------------------------- HTTP framing
for slug, raw in [
    ("request-line-garbage", b"GARBAGE\r\n\r\n"),
    ("request-line-no-version", b"GET /v1/health\r\n\r\n"),
    ("request-line-bad-version", b"GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("header-no-colon", b"GET /v1/health HTTP/1.1\r\nHost 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("header-space-before-colon", b"GET /v1/health HTTP/1.1\r\nHost : 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("header-nul", b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n"),
    ("header-huge", [(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ", 1), (b"a", 200000), (b"\r\nConnection: close\r\n\r\n", 1)]),
    ("headers-many", [(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", 1), (b"X-H: v\r\n", 20000), (b"Connection: close\r\n\r\n", 1)]),
    ("url-huge", [(b"GET /v1/executions/", 1), (b"a", 200000), (b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 1)]),
    ("path-no-slash", b"GET v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ("bare-lf-and-cr", b"GET /v1/health HTTP/1.1\rHost: 127.0.0.1\r\r\r"),
    ("obsolete-folding", b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n"),
    ("te-and-cl", b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
                  b"Connection: close\r\n\r\n0\r\n\r\n"),
    ("te-unknown", b"POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n{}"),
    ("binary-junk", bytes(range(256)) * 4),
]:
    case("http-" + slug, "broken HTTP: " + slug.replace("-", " "), raw=raw, expect=("4xx", "close"), json_error=False)

# ---------------------------------------------------------------- /v1/definitions: States Language
asl("no-name", "a States Language machine without ?name=", good_machine(), name=None, status=400)
asl("empty-name", "?name= empty", good_machine(), name="", status=400)
asl("name-newline", "?name= holding a line feed", good_machine(), name="a%0Ab", status=400)
asl("name-carriage-return", "?name= holding a carriage return", good_machine(), name="a%0Db", status=400)
asl("name-nul", "?name= holding a NUL", good_machine(), name="a%00b", status=400)
asl("name-traversal", "?name=../../etc/passwd", good_machine(), name="..%2F..%2Fetc%2Fpasswd", status=400)
asl("name-dotdot", "?name=..", good_machine(), name="..", status=400)
asl("name-slash", "?name=a/b", good_machine(), name="a%2Fb", status=400)
asl("name-builtin-noop", "?name=noop: an upload named like a built-in would shadow it", good_machine(), name="noop")
asl("name-builtin-sleep", "?name=sleep: an upload named like a built-in would shadow it", good_machine(), name="sleep")
asl("name-long", "?name= of 10,000 characters", good_machine(), name="n" * 10000)
asl("not-json", "a machine that is not JSON", '{"StartAt": "A", "States": {', status=400)
asl("array", "a JSON array", "[]", status=400)
asl("null", "null", "null", status=400)
asl("string", "a JSON string", '"machine"', status=400)
asl("empty", "an empty body", "", status=400)
asl("no-startat", "no StartAt", {"States": {"A": {"Type": "Pass", "End": True}}}, status=400)
asl("no-states", "no States", {"StartAt": "A"}, status=400)
asl("empty-states", "States empty", {"StartAt": "A", "States": {}}, status=400)
asl("startat-missing-state", "StartAt names no state", {"StartAt": "B", "States": {"A": {"Type": "Pass", "End": True}}}, status=400)
asl("next-missing-state", "Next names no state", machine_with({"Type": "Pass", "Next": "Nowhere"}), status=400)
asl("unknown-type", "an unknown state type", machine_with({"Type": "Teleport", "End": True}), status=400)
asl("type-missing", "a state without Type", machine_with({"End": True}), status=400)
asl("type-number", "a Type that is a number", machine_with({"Type": 5, "End": True}), status=400)
asl("no-end", "a Pass with neither Next nor End", machine_with({"Type": "Pass"}), status=400)
asl("next-and-end", "a Pass with Next and End", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "End": True},
                                                                              "B": {"Type": "Succeed"}}}, status=400)
asl("unknown-field", "an unknown field in a state", machine_with({"Type": "Pass", "End": True, "Bogus": 1}), status=400)
asl("unknown-top-field", "an unknown top-level field", dict(good_machine(), Bogus=1), status=400)
asl("no-reachable-end", "a machine whose states only loop (no reachable end)",
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}, status=400)
asl("wait-negative", "Wait Seconds -100", machine_with({"Type": "Wait", "Seconds": -100, "End": True}), status=400)
asl("wait-huge", "Wait Seconds 1e300", machine_with({"Type": "Wait", "Seconds": 1e300, "End": True}), status=400)
asl("wait-string", "Wait Seconds as text", machine_with({"Type": "Wait", "Seconds": "10", "End": True}), status=400)
asl("wait-bad-timestamp", "Wait Timestamp that is not one", machine_with({"Type": "Wait", "Timestamp": "never", "End": True}), status=400)
asl("wait-two-fields", "Wait with Seconds and Timestamp", machine_with({"Type": "Wait", "Seconds": 1, "Timestamp": "2026-01-01T00:00:00Z",
                                                                        "End": True}), status=400)
map_processor = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
asl("map-concurrency-negative", "Map MaxConcurrency -1",
    machine_with({"Type": "Map", "MaxConcurrency": -1, "ItemProcessor": map_processor, "End": True}), status=400)
asl("map-concurrency-text", "Map MaxConcurrency as text",
    machine_with({"Type": "Map", "MaxConcurrency": "2", "ItemProcessor": map_processor, "End": True}), status=400)
asl("map-no-processor", "Map without ItemProcessor", machine_with({"Type": "Map", "End": True}), status=400)
asl("parallel-no-branches", "Parallel without Branches", machine_with({"Type": "Parallel", "End": True}), status=400)
asl("parallel-empty-branch", "Parallel with an empty branch", machine_with({"Type": "Parallel", "Branches": [{}], "End": True}), status=400)
asl("choice-no-choices", "Choice without Choices", machine_with({"Type": "Choice", "Default": "A"}), status=400)
asl("choice-bad-operator", "Choice with an unknown operator",
    {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "Sounds": "odd", "Next": "B"}], "Default": "B"},
                                "B": {"Type": "Succeed"}}}, status=400)
asl("choice-next-missing", "a Choice rule whose Next names no state",
    {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Z"}], "Default": "B"},
                                "B": {"Type": "Succeed"}}}, status=400)
asl("task-resource-empty", "a Task with an empty Resource", machine_with({"Type": "Task", "Resource": "", "End": True}), status=400)
asl("task-resource-long", "a Task Resource of 201 characters", machine_with({"Type": "Task", "Resource": "r" * 201, "End": True}), status=400)
asl("task-no-resource", "a Task without Resource", machine_with({"Type": "Task", "End": True}), status=400)
asl("task-timeout-negative", "a Task TimeoutSeconds -1", machine_with({"Type": "Task", "Resource": "noop", "TimeoutSeconds": -1, "End": True}),
    status=400)
asl("task-heartbeat-zero", "a Task HeartbeatSeconds 0", machine_with({"Type": "Task", "Resource": "noop", "HeartbeatSeconds": 0, "End": True}),
    status=400)
asl("task-file-uri", "an http Task whose url is file://",
    machine_with({"Type": "Task", "Resource": "http", "Parameters": {"url": "file:///etc/passwd"}, "End": True}), status=400)
asl("retry-negative-interval", "Retry IntervalSeconds -1",
    machine_with({"Type": "Task", "Resource": "noop", "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": -1}], "End": True}),
    status=400)
asl("retry-backoff-below-one", "Retry BackoffRate 0.5",
    machine_with({"Type": "Task", "Resource": "noop", "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}], "End": True}),
    status=400)
asl("retry-no-errors", "Retry without ErrorEquals", machine_with({"Type": "Task", "Resource": "noop", "Retry": [{}], "End": True}), status=400)
asl("catch-next-missing", "Catch whose Next names no state",
    machine_with({"Type": "Task", "Resource": "noop", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}], "End": True}), status=400)
asl("bad-inputpath", "InputPath that is no path", machine_with({"Type": "Pass", "InputPath": "nope", "End": True}), status=400)
asl("bad-resultpath", "ResultPath that is no path", machine_with({"Type": "Pass", "ResultPath": "$[", "End": True}), status=400)
asl("bad-outputpath", "OutputPath with an unclosed filter", machine_with({"Type": "Pass", "OutputPath": "$.a[?(@.b", "End": True}), status=400)
asl("bad-parameter-path", "a .$ parameter that is no path", machine_with({"Type": "Pass", "Parameters": {"a.$": "nope"}, "End": True}), status=400)
asl("unknown-intrinsic", "an intrinsic that does not exist",
    machine_with({"Type": "Pass", "Parameters": {"a.$": "States.Teleport($.x)"}, "End": True}), status=400)
asl("intrinsic-unclosed", "an intrinsic call never closed",
    machine_with({"Type": "Pass", "Parameters": {"a.$": "States.Format('x {}', $.a"}, "End": True}), status=400)
asl("intrinsic-very-deep", "an intrinsic nested 70,000 calls deep (a recursive parser's stack)", None, status=400,
    parts=[('{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Parameters":{"a.$":"', 1), ("States.Array(", 70000), ("1", 1),
           (")", 70000), ('"}}}}', 1)])
asl("intrinsic-deep", "an intrinsic nested 1,000 calls deep",
    machine_with({"Type": "Pass", "Parameters": {"a.$": "States.Array(" * 1000 + "1" + ")" * 1000}, "End": True}), status=400)
asl("fail-bad-errorpath", "Fail with an ErrorPath that is no path", machine_with({"Type": "Fail", "ErrorPath": "nope"}), status=400)
asl("machine-timeout-negative", "machine TimeoutSeconds -5", dict(good_machine(), TimeoutSeconds=-5), status=400)
asl("state-name-long", "a state name of 5,000 characters",
    {"StartAt": "s" * 5000, "States": {"s" * 5000: {"Type": "Pass", "End": True}}}, status=400)
asl("state-name-empty", "an empty state name", {"StartAt": "", "States": {"": {"Type": "Pass", "End": True}}}, status=400)
asl("deep-parameters", "Parameters nested 100,000 objects deep", None, status=400,
    parts=[('{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Parameters":', 1), ('{"a":', 100000), ("1", 1), ("}", 100000),
           ("}}}", 1)])
asl("many-states", "a machine of 200,000 Pass states (over the size or state-count limit)", None, status=None,
    parts=[('{"StartAt":"A","States":{', 1), ('"A":{"Type":"Pass","End":true},', 1), ('"B":{"Type":"Pass","End":true},', 200000),
           ('"Z":{"Type":"Succeed"}}}', 1)])

# ---------------------------------------------------------------- /v1/definitions: task lists
tasklist("not-object", "a task list that is an array", "[]", status=400)
tasklist("no-name", "a task list without a name", {"tasks": [http_task()]}, status=400)
tasklist("no-tasks", "a task list without tasks", {"name": "corpus_tl"}, status=400)
tasklist("tasks-not-array", "tasks that is an object", {"name": "corpus_tl", "tasks": {}}, status=400)
tasklist("task-not-object", "a task that is a string", {"name": "corpus_tl", "tasks": ["call"]}, status=400)
tasklist("name-empty", "an empty name", good_tasklist(name=""), status=400)
tasklist("name-nul", "a name holding a NUL", good_tasklist(name="corpus\u0000tl"), status=400)
tasklist("name-newline", "a name holding a line feed", good_tasklist(name="corpus\ntl"), status=400)
tasklist("name-traversal", "a name ../../etc/passwd", good_tasklist(name="../../etc/passwd"), status=400)
tasklist("name-builtin", "a task list named noop would shadow the built-in", good_tasklist(name="noop"))
tasklist("name-number", "a name that is a number", good_tasklist(name=5), status=400)
tasklist("name-long", "a name of 10,000 characters", good_tasklist(name="n" * 10000))
tasklist("task-type-unknown", "a task of an unknown type", good_tasklist(tasks=[{"name": "t", "type": "ftp"}]), status=400)
tasklist("task-type-missing", "a task without a type", good_tasklist(tasks=[{"name": "t"}]), status=400)
tasklist("task-name-missing", "a task without a name", good_tasklist(tasks=[{"type": "http", "http": {"uri": "http://x/"}}]), status=400)
tasklist("task-name-empty", "a task with an empty name", good_tasklist(tasks=[dict(http_task(), name="")]), status=400)
tasklist("task-name-nul", "a task name holding a NUL", good_tasklist(tasks=[dict(http_task(), name="a\u0000b")]), expect=LENIENT,
         note="a task name is no identity the store looks up; refusing NUL would be better")
tasklist("task-names-duplicate", "two tasks of one name", good_tasklist(tasks=[http_task(), http_task()]), status=400)
tasklist("http-no-block", "an http task without its http block", good_tasklist(tasks=[{"name": "t", "type": "http"}]), status=400)
tasklist("http-no-uri", "an http task without a uri", good_tasklist(tasks=[{"name": "t", "type": "http", "http": {"method": "GET"}}]), status=400)
tasklist("http-uri-file", "an http task whose uri is file://", good_tasklist(tasks=[http_task("file:///etc/passwd")]), status=400)
tasklist("http-uri-gopher", "an http task whose uri is gopher://", good_tasklist(tasks=[http_task("gopher://127.0.0.1/")]), status=400)
tasklist("http-uri-number", "a uri that is a number", good_tasklist(tasks=[http_task(5)]), status=400)
tasklist("http-method-bad", "a method that is no token", good_tasklist(tasks=[http_task(method="GET /x HTTP/1.1\r\nX:")]), status=400)
tasklist("http-header-number", "a header value that is a number", good_tasklist(tasks=[http_task(headers={"X-A": 5})]), status=400)
tasklist("http-header-crlf", "a header value holding CR/LF", good_tasklist(tasks=[http_task(headers={"X-A": "a\r\nX-B: b"})]),
         expect=LENIENT, note="refused unsent when the task runs (b517ffb); refusing at load would be better")
tasklist("http-timeout-string", "a read timeout that is text", good_tasklist(tasks=[http_task(readTimeOut="soon")]), status=400)
tasklist("http-timeout-negative", "a negative connection timeout", good_tasklist(tasks=[http_task(connectionTimeOut=-1)]), status=400)
tasklist("retries-negative", "retries -1", good_tasklist(tasks=[dict(http_task(), retries=-1)]), status=400)
tasklist("retries-huge", "retries 1e300", good_tasklist(tasks=[dict(http_task(), retries=1e300)]), status=400)
tasklist("retry-delay-negative", "retryDelaySeconds -5", good_tasklist(tasks=[dict(http_task(), retryDelaySeconds=-5)]), status=400)
tasklist("retry-delay-string", "retryDelaySeconds as text", good_tasklist(tasks=[dict(http_task(), retryDelaySeconds="x")]), status=400)
tasklist("execution-timeout-negative", "executionTimeOut -5", good_tasklist(executionTimeOut=-5), status=400)
tasklist("input-parameters-not-array", "inputParameters as a string", good_tasklist(inputParameters="device_id"), status=400)
tasklist("input-parameter-number", "an input parameter that is a number", good_tasklist(inputParameters=[5]), status=400)
tasklist("template-missing-input", "a template naming an input the list does not declare",
         good_tasklist(tasks=[http_task("http://127.0.0.1:9/${workflow.input.undeclared}")]), status=400)
tasklist("template-missing-task", "a template naming a task that does not exist",
         good_tasklist(tasks=[http_task("http://127.0.0.1:9/${ghost.json.id}")]), status=400)
tasklist("template-later-task", "a template naming a task that runs later",
         good_tasklist(tasks=[http_task("http://127.0.0.1:9/${second.json.id}"), dict(http_task(), name="second")]), status=400)
tasklist("template-unclosed", "a template never closed", good_tasklist(tasks=[http_task("http://127.0.0.1:9/${workflow.input.device_id")]),
         expect=LENIENT, note="Mender sends an unclosed ${ as text")
tasklist("template-bad-encoding", "an unknown encoding=", good_tasklist(tasks=[http_task("http://127.0.0.1:9/${encoding=rot13;workflow.input.device_id}")]),
         status=400)
tasklist("template-empty", "an empty template ${}", good_tasklist(tasks=[http_task("http://127.0.0.1:9/${}")]), status=400)
tasklist("template-deep", "a template nested 2,000 levels", good_tasklist(tasks=[http_task("http://127.0.0.1:9/" + "${" * 2000 + "x" + "}" * 2000)]),
         status=400)
tasklist("requires-not-array", "requires that is a string", good_tasklist(tasks=[dict(http_task(), requires="x")]), status=400)
tasklist("cli-command-string", "a cli task whose command is a string",
         good_tasklist(tasks=[{"name": "t", "type": "cli", "cli": {"command": "rm -rf /"}}]), status=400)
tasklist("cli-command-empty", "a cli task whose command is empty", good_tasklist(tasks=[{"name": "t", "type": "cli", "cli": {"command": []}}]),
         status=400)
tasklist("trigger-document", "a trigger document sent as a workflow", {"trigger": {"path": "/"}, "workflow": "noop"}, status=400)
tasklist("schedule-interval-zero", "a schedule document sent as a workflow", {"schedule": "* * * * *", "workflow": "noop"}, status=400)
tasklist("deep-input-parameters", "a task list nested 100,000 arrays deep", None, status=400,
         parts=[('{"name":"corpus_tl","tasks":', 1), ("[", 100000), ("]", 100000), ("}", 1)])

# ---------------------------------------------------------------- /v1/definitions: YAML
LAUGHS = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n" % ((chr(98 + i), chr(98 + i)) + (chr(97 + i),) * 9) for i in range(8))
yaml("billion-laughs", "a billion-laughs YAML (nine aliases to nine, nine levels deep)", LAUGHS, status=400)
yaml("billion-laughs-named", "a billion-laughs YAML inside a task list", "name: laughs\ntasks: []\n" + LAUGHS, status=400)
yaml("billion-laughs-mender", "a billion-laughs YAML sent to Mender's register route", LAUGHS, path="/api/v1/metadata/workflows")
yaml("alias-self", "an alias used inside its own anchor", "a: &a [*a]\n", status=400)
yaml("alias-undefined", "an alias with no anchor", "a: *nowhere\n", status=400)
yaml("deep-flow", "a flow sequence nested 100,000 levels", None, parts=[("[", 100000), ("]", 100000), ("\n", 1)], status=400)
yaml("deep-block", "block sequences nested 50,000 levels on one line", None, parts=[("- ", 50000), ("v\n", 1)], status=400)
yaml("tab-indent", "a tab used for indentation", "name: x\ntasks:\n\t- name: t\n", status=400)
yaml("unclosed-quote", "a quoted scalar never closed", 'name: "x\ntasks: []\n', status=400)
yaml("unclosed-flow", "a flow mapping never closed", "{name: x, tasks: [\n", status=400)
yaml("duplicate-keys", "a mapping with a key twice", "name: a\nname: b\ntasks: []\n", status=400)
yaml("multi-document", "two YAML documents", "name: a\ntasks: []\n---\nname: b\ntasks: []\n", status=400)
yaml("scalar", "a YAML scalar", "just text\n", status=400)
yaml("empty", "an empty YAML document", "", status=400)
yaml("binary-tag", "a !!binary tag where a name goes", "name: !!binary aGVsbG8=\ntasks: []\n", status=400)
yaml("python-tag", "a language-specific tag", "name: !!python/object:os.system [ls]\ntasks: []\n", status=400)
yaml("merge-loop", "merge keys that refer to each other", "a: &a\n  <<: *a\n", status=400)
yaml("huge-anchor-fanout", "one anchor of 10,000 items aliased 1,000 times",
     "x: &x [" + ",".join(["1"] * 10000) + "]\ny: [" + ",".join(["*x"] * 1000) + "]\n", status=400)
yaml("invalid-utf8", "invalid UTF-8 in YAML", None, body_bytes=b"name: \xff\xfe\ntasks: []\n", status=400)
yaml("nul-in-name", "a NUL escape in a YAML name", 'name: "a\\0b"\ntasks:\n  - name: t\n    type: http\n    http: {uri: "http://127.0.0.1:9/"}\n', status=400)
for slug, text in [("sequence", "[2]: x\n"), ("flow", "{[1]: x}\n"), ("explicit", "? [2]\n: x\n"), ("mapping", "{a: 1}: x\n"),
                   ("nested", "name: t\ntasks:\n  - {[1]: x}\n")]:
    yaml("complex-key-" + slug, "a mapping key that is not a scalar (Yams force-unwraps it: found by fuzz.sh)", text, status=400)
yaml("asl-yaml-no-name", "a YAML machine without ?name=", "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n", status=400)

# ---------------------------------------------------------------- Mender's routes
for slug, path, body, why in [
    ("start-not-json", "/api/v1/workflow/noop", "{", "a body that is not JSON"),
    ("start-array", "/api/v1/workflow/noop", "[]", "a body that is an array"),
    ("start-unknown", "/api/v1/workflow/nope", "{}", "an unknown workflow"),
    ("start-nul-name", "/api/v1/workflow/noop%00x", "{}", "a workflow name with a NUL"),
    ("start-traversal", "/api/v1/workflow/..%2Fnoop", "{}", "a workflow name with ../"),
    ("start-deep", "/api/v1/workflow/noop", None, "input nested 100,000 arrays deep"),
    ("batch-object", "/api/v1/workflow/noop/batch", "{}", "a batch that is an object"),
    ("batch-numbers", "/api/v1/workflow/noop/batch", "[1,2]", "a batch of numbers"),
    ("batch-not-json", "/api/v1/workflow/noop/batch", "[{}", "a batch that is not JSON"),
    ("batch-unknown", "/api/v1/workflow/nope/batch", "[{}]", "a batch for an unknown workflow"),
    ("register-asl", "/api/v1/metadata/workflows", json.dumps(good_machine()), "an ASL machine sent to the task-list register route"),
    ("register-not-json", "/api/v1/metadata/workflows", "{", "a register body that is not JSON"),
    ("register-no-name", "/api/v1/metadata/workflows", json.dumps({"tasks": []}), "a task list without a name"),
    ("register-array", "/api/v1/metadata/workflows", "[]", "a register body that is an array"),
    ("register-empty", "/api/v1/metadata/workflows", "", "an empty register body"),
    ("register-file-uri", "/api/v1/metadata/workflows", json.dumps(good_tasklist(tasks=[http_task("file:///etc/shadow")])),
     "a task list with a file:// uri"),
    ("job-unknown", "/api/v1/jobs/nope", None, "an unknown job"),
]:
    method = "GET" if slug.startswith("job-") else "POST"
    parts = [("[", 100000), ("]", 100000)] if slug == "start-deep" else None
    case("mender-" + slug, "Mender's API: " + why, method=method, path=path, body=body, parts=parts,
         headers=JSON_HEADERS if method == "POST" else {})

# ---------------------------------------------------------------- activities and queues
for slug, method, path, body in [
    ("claim-wait-negative", "POST", "/v1/activities/corpus/claim?waitSeconds=-1", None),
    ("claim-wait-text", "POST", "/v1/activities/corpus/claim?waitSeconds=abc", None),
    ("claim-wait-huge", "POST", "/v1/activities/corpus/claim?waitSeconds=1e9", None),
    ("claim-wait-nan", "POST", "/v1/activities/corpus/claim?waitSeconds=nan", None),
    ("claim-heartbeat-zero", "POST", "/v1/activities/corpus/claim?waitSeconds=0&heartbeatSeconds=0", None),
    ("claim-name-nul", "POST", "/v1/activities/a%00b/claim?waitSeconds=0", None),
    ("heartbeat-unknown-token", "POST", "/v1/activities/tasks/nope/heartbeat", None),
    ("heartbeat-seconds-text", "POST", "/v1/activities/tasks/nope/heartbeat?heartbeatSeconds=x", None),
    ("success-unknown-token", "POST", "/v1/activities/tasks/nope/success", '{"output":{}}'),
    ("success-bad-json", "POST", "/v1/activities/tasks/nope/success", "{"),
    ("success-unknown-field", "POST", "/v1/activities/tasks/nope/success", '{"result":1}'),
    ("failure-error-number", "POST", "/v1/activities/tasks/nope/failure", '{"error":5}'),
    ("failure-cause-object", "POST", "/v1/activities/tasks/nope/failure", '{"cause":{}}'),
    ("token-nul", "POST", "/v1/activities/tasks/a%00b/success", '{"output":1}'),
    ("token-long", "POST", "/v1/activities/tasks/" + "t" * 5000 + "/success", '{"output":1}'),
    ("queue-pause-nul", "POST", "/v1/queues/a%00b/pause", None),
    ("queue-pause-newline", "POST", "/v1/queues/a%0Ab/pause", None),
    ("queue-pause-empty", "POST", "/v1/queues/%20/pause", None),
]:
    case("activity-" + slug if not slug.startswith("queue") else slug, "%s %s" % (method, path[:80]), method=method, path=path,
         body=body, headers=JSON_HEADERS if body is not None else {})


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    seen = set()
    for item in CASES:
        assert item["id"] not in seen, item["id"]
        seen.add(item["id"])
        with open(os.path.join(OUT, item["id"] + ".json"), "w") as handle:
            json.dump(item, handle, indent=1, ensure_ascii=True)
            handle.write("\n")
    print("wrote %d cases to %s" % (len(CASES), os.path.relpath(OUT, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
