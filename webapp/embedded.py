"""`make run`: the embedded setup of docs/operations.md in one terminal. Starts the web server (uvicorn), the
default+index worker, the gpu worker, the webhooks worker, and the sweep worker with the scheduler inside it
(its own process, so recovery never waits behind long work); Ctrl-C (or any child dying) stops them all."""

import os
import signal
import subprocess
import sys
import time

from webapp.env import env_int, env_str, names_for_bind

CELERY = [sys.executable, "-m", "celery", "-A", "workers", "worker", "--loglevel", "INFO"]


def commands(port: int, var_dir: str, host: str = "127.0.0.1") -> dict[str, list[str]]:
    return {
        "web": [
            sys.executable,
            "-m",
            "uvicorn",
            "webapp.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
        ],
        "worker": CELERY
        + [
            "-Q",
            "default,index",
            "-n",
            "default@%h",
            "--concurrency",
            "2",
        ],
        "gpu": CELERY + ["-Q", "gpu", "-n", "gpu@%h", "--concurrency", "1", "--prefetch-multiplier", "1"],
        # Webhook deliveries wait on other people's servers: a slot of their own (docs/webhooks.md).
        "webhooks": CELERY + ["-Q", "webhooks", "-n", "webhooks@%h", "--concurrency", "2"],
        "sweep": CELERY
        + [
            "-Q",
            "sweep",
            "-n",
            "sweep@%h",
            "--concurrency",
            "1",
            "-B",
            "-s",
            os.path.join(var_dir, "celerybeat-schedule"),
        ],
    }


def main() -> int:
    port = env_int("PORT", 8000, minimum=1, maximum=65535)
    host = env_str("HOST", "127.0.0.1")
    var_dir = os.environ.get("VAR_DIR", os.path.join(os.getcwd(), "var"))
    os.makedirs(var_dir, exist_ok=True)
    children = {
        name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands(port, var_dir, host).items()
    }
    here = host if host not in ("0.0.0.0", "::", "localhost") else "127.0.0.1"
    print(f"\n  Polyglot Feedback is running at http://{here}:{port}/   (Ctrl-C stops everything)", flush=True)
    if host in ("0.0.0.0", "::"):
        others = ", ".join(f"http://{name}:{port}/" for name in names_for_bind(host))
        print(f"  and on the network at {others}", flush=True)
    print(flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the rest", file=sys.stderr)
                code, stopping = child.returncode or 1, True
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.time() + 20
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    return code


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.exit(main())
