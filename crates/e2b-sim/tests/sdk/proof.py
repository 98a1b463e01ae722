"""Drives e2b-sim with E2B's official Python SDK (PyPI `e2b`, sync API).

Reads E2B_API_URL, E2B_SANDBOX_URL, E2B_DOMAIN and E2B_API_KEY from the
environment (the SDK itself honours them from 2.7 on). Prints one line per
step and exits non-zero with a message on the first mismatch.

Run by crates/e2b-sim/tests/sdk.rs with each venv of scripts/sdk-venvs.sh.
"""

import importlib.metadata
import os
import sys
import time
import json
import traceback

import httpx

from e2b import Sandbox
from e2b.exceptions import SandboxException

try:
    from e2b import CommandExitException
except ImportError:  # older layouts
    from e2b.sandbox.commands.command_handle import CommandExitException


# Every control-plane exchange the SDK makes: (method, path, request JSON,
# status, response JSON), recorded at the httpx client (the SDK's transport
# below it is pyqwest in newer versions).
API_CALLS = []
_send = httpx.Client.send


def _json(data):
    try:
        return json.loads(data or b"null")
    except ValueError:
        return None


def _recording_send(self, request, *args, **kwargs):
    response = _send(self, request, *args, **kwargs)
    api = httpx.URL(os.environ["E2B_API_URL"])
    if request.url.host == api.host and request.url.port == api.port:
        response.read()
        API_CALLS.append(
            (request.method, request.url.path, _json(request.read()), response.status_code, _json(response.content))
        )
    return response


httpx.Client.send = _recording_send


def calls(method, prefix):
    return [c for c in API_CALLS if c[0] == method and c[1].startswith(prefix)]


def step(msg):
    print(f"ok   {msg}", flush=True)


def skip(msg):
    print(f"skip {msg}", flush=True)


class Mismatch(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Mismatch(msg)


def listed_ids():
    """Every sandbox id `Sandbox.list` returns (running and paused)."""
    res = Sandbox.list()
    ids = []
    if hasattr(res, "next_items"):  # paginator (>= 1.x / 2.x)
        pages = 0
        while res.has_next:
            ids.extend(s.sandbox_id for s in res.next_items())
            pages += 1
            expect(pages < 100, "Sandbox.list paginator did not end")
    else:  # plain list (old SDKs)
        ids.extend(s.sandbox_id for s in res)
    return ids


def create():
    # 2.x: Sandbox.create() is the constructor; Sandbox() alone is a
    # deprecated/invalid form there. Older 1.x used Sandbox(...).
    if hasattr(Sandbox, "create"):
        return Sandbox.create(timeout=120, metadata={"proof": "sdk"})
    return Sandbox(timeout=120, metadata={"proof": "sdk"})


def main():
    for var in ("E2B_API_URL", "E2B_SANDBOX_URL", "E2B_DOMAIN", "E2B_API_KEY"):
        expect(os.environ.get(var), f"{var} is not set")
    version = importlib.metadata.version("e2b")
    print(f"e2b SDK {version} against {os.environ['E2B_API_URL']}", flush=True)

    sbx = create()
    sid = sbx.sandbox_id
    expect(
        len(sid) == 20 and sid.isalnum() and sid == sid.lower(),
        f"sandbox id {sid!r} is not 20 lower-case alphanumerics",
    )
    step(f"create -> {sid}")
    # Which create form this SDK uses (2.45.x: POST /sandboxes with
    # secure: true; the newest: POST /v2/sandboxes).
    creates = [c for c in API_CALLS if c[0] == "POST" and c[1] in ("/sandboxes", "/v2/sandboxes")]
    expect(len(creates) == 1, f"create requests seen: {creates!r} (all: {API_CALLS!r})")
    method, path, body, status, answer = creates[0]
    expect(status == 201, f"create answered {status}")
    if path == "/sandboxes":
        expect(isinstance(body, dict) and body.get("secure") is True, f"create body {body!r} lacks secure: true")
    else:
        expect("secure" not in (body or {}), f"v2 create body {body!r} has a secure field")
    token = (answer or {}).get("envdAccessToken")
    expect(isinstance(token, str) and token, f"create answer {answer!r} has no envdAccessToken (not secured)")
    expected = os.environ.get("PROOF_EXPECT_CREATE_PATH")
    expect(expected in (None, "", path), f"created with POST {path}, expected POST {expected}")
    step(f"create used POST {path} (secured: envdAccessToken returned)")

    try:
        r = sbx.commands.run("echo out; echo err >&2")
        expect(r.exit_code == 0, f"exit_code {r.exit_code!r}, want 0")
        expect(r.stdout == "out\n", f"stdout {r.stdout!r}, want 'out\\n'")
        expect(r.stderr == "err\n", f"stderr {r.stderr!r}, want 'err\\n'")
        step("commands.run stdout/stderr")

        try:
            sbx.commands.run("echo boom >&2; exit 3")
        except CommandExitException as e:
            expect(e.exit_code == 3, f"exit_code {e.exit_code!r}, want 3")
            expect("boom" in e.stderr, f"stderr {e.stderr!r} lacks 'boom'")
        else:
            raise Mismatch("a failing command did not raise CommandExitException")
        step("commands.run non-zero exit -> CommandExitException(exit_code=3)")

        r = sbx.commands.run("echo $PROOF_VAR", envs={"PROOF_VAR": "v1"})
        expect(r.stdout == "v1\n", f"envs: stdout {r.stdout!r}")
        step("commands.run with envs")

        # Relative to the user's home (the commands' cwd): the same file to
        # the files API and to commands in either of the emulator's modes.
        content = "hello from the SDK\nline 2\n"
        info = sbx.files.write("proof/hello.txt", content)
        expect(
            getattr(info, "path", "").endswith("hello.txt"),
            f"files.write returned {info!r}",
        )
        got = sbx.files.read("proof/hello.txt")
        expect(got == content, f"files.read {got!r}, want {content!r}")
        r = sbx.commands.run("cat proof/hello.txt")
        expect(r.stdout == content, f"cat after write: {r.stdout!r}")
        step("files.write + files.read (+ visible to commands)")

        absolute = os.environ.get("PROOF_ABSOLUTE_PATHS") == "1"
        if absolute:
            # As a real client does it: upload to an absolute path, use it
            # there (the emulator's commands have their own mount namespace
            # that shows the sandbox's /home/user, /root and /tmp).
            text = "hello at an absolute path\n"
            sbx.files.write("/home/user/hello.txt", text)
            r = sbx.commands.run("cat /home/user/hello.txt")
            expect(r.stdout == text, f"cat /home/user/hello.txt: {r.stdout!r}, want {text!r}")
            step("files.write /home/user/hello.txt, commands.run cat /home/user/hello.txt")
            sbx.files.write("/home/user/hi.sh", '#!/bin/sh\necho "hi from $0 in $(pwd), HOME=$HOME"\n')
            r = sbx.commands.run("chmod +x /home/user/hi.sh && /home/user/hi.sh")
            want = "hi from /home/user/hi.sh in /home/user, HOME=/home/user\n"
            expect(r.stdout == want, f"uploaded script: {r.stdout!r}, want {want!r}")
            step("files.write /home/user/hi.sh, chmod +x and run it by absolute path")
            sbx.files.write("/tmp/proof.txt", "in tmp\n")
            r = sbx.commands.run("cat /tmp/proof.txt")
            expect(r.stdout == "in tmp\n", f"cat /tmp/proof.txt: {r.stdout!r}")
            step("files.write /tmp/proof.txt, commands.run cat /tmp/proof.txt")
        else:
            skip("absolute paths: the emulator's commands have no mount namespace here (host processes)")

        expect(sbx.files.exists("proof/hello.txt"), "files.exists false")
        names = [e.name for e in sbx.files.list("proof")]
        expect("hello.txt" in names, f"files.list {names!r}")
        step("files.exists + files.list")

        expect(sid in listed_ids(), f"{sid} missing from Sandbox.list")
        step("Sandbox.list contains the sandbox")

        expect(sbx.is_running(), "is_running() false")
        step("is_running")

        if hasattr(sbx, "pause"):
            paused = sbx.pause()
            expect(paused in (True, None) or isinstance(paused, str), f"pause -> {paused!r}")
            state = Sandbox.get_info(sid).state
            expect(str(getattr(state, "value", state)) == "paused", f"state after pause {state!r}")
            expect(sid in listed_ids(), f"paused {sid} missing from Sandbox.list")
            step("pause (state paused, still listed)")
            sbx = Sandbox.connect(sid)
            state = Sandbox.get_info(sid).state
            expect(str(getattr(state, "value", state)) == "running", f"state after connect {state!r}")
            got = sbx.files.read("proof/hello.txt")
            expect(got == content, f"file lost across pause/resume: {got!r}")
            r = sbx.commands.run("echo back")
            expect(r.stdout == "back\n", f"after resume: {r.stdout!r}")
            if absolute:
                r = sbx.commands.run("/home/user/hi.sh")
                expect(r.stdout.startswith("hi from /home/user/hi.sh"), f"hi.sh after resume: {r.stdout!r}")
            connects = [c for c in API_CALLS if c[0] == "POST" and c[1].endswith(f"/{sid}/connect")]
            expect(connects, f"no POST .../connect request seen: {API_CALLS!r}")
            expected = os.environ.get("PROOF_EXPECT_CONNECT_PATH")
            if expected:
                expected = expected.replace("{id}", sid)
                expect(connects[-1][1] == expected, f"resumed with POST {connects[-1][1]}, expected POST {expected}")
            step(f"resume via Sandbox.connect -> POST {connects[-1][1]} (files kept, commands run)")
        else:
            skip(f"pause/resume: SDK {version} has no Sandbox.pause")
    except BaseException:
        try:
            sbx.kill()
        except Exception:
            pass
        raise

    killed = sbx.kill()
    expect(killed in (True, None), f"kill -> {killed!r}")
    step("kill")

    deadline = time.time() + 5
    while sid in listed_ids():
        expect(time.time() < deadline, f"{sid} still listed after kill")
        time.sleep(0.05)
    step("Sandbox.list no longer contains it")

    try:
        Sandbox.connect(sid)
    except SandboxException as e:
        step(f"connect to a killed sandbox fails ({type(e).__name__})")
    else:
        raise Mismatch("connect to a killed sandbox succeeded")

    print(f"PASS e2b SDK {version}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"FAIL mismatch: {e}", flush=True)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print("FAIL: the SDK raised", flush=True)
        sys.exit(2)
