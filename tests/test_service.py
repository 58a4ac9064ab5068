"""`assistant run` as systemd runs it: a subprocess, sd_notify on a real unix datagram socket,
signals, TLS and passwords on a real mosquitto, and the unit file itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .conftest import CONFIG, ROOT
from .mqtt_helpers import Broker, Observer

PREFIX = "assistant/default"


def write_config(tmp_path: Path, port: int, **mqtt: object) -> Path:
    data = yaml.safe_load(CONFIG.read_text())
    data["mqtt"].update({"host": "127.0.0.1", "port": port, "reconnect_min_s": 1, "reconnect_max_s": 2, **mqtt})
    data["understanding"]["model"] = str(ROOT / "models" / "nlu.int8.onnx")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start_service(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`assistant run` with its output in service.log beside the config."""
    with (config.parent / "service.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "assistant.cli", "run", "--config", str(config)],
                                cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log)  # fmt: skip


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(20)
    yield sock, str(path)
    sock.close()


def read_notifications(sock: socket.socket, until: str, timeout: float = 20) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            seen += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            break
        if any(line.startswith(until) for line in seen):
            return seen
    raise AssertionError(f"no {until} in {seen}")


def test_sd_notify_ready_watchdog_and_clean_sigterm(tmp_path, notify_socket):
    sock, path = notify_socket
    broker = Broker(tmp_path).start()
    proc = start_service(write_config(tmp_path, broker.port),
                         {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1500000"})  # fmt: skip
    try:
        seen = read_notifications(sock, "READY=1")
        assert any(line.startswith("STATUS=") for line in seen)
        read_notifications(sock, "WATCHDOG=1", timeout=5)
        observer = Observer(broker.port)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert time.monotonic() - started < 2.0
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"offline", timeout=5)
        observer.close()
    finally:
        proc.kill()
        proc.wait(5)
        broker.stop()


def test_broker_down_at_start_then_up(tmp_path):
    broker = Broker(tmp_path)
    proc = start_service(write_config(tmp_path, broker.port))
    try:
        time.sleep(3)
        assert proc.poll() is None
        broker.start()
        observer = Observer(broker.port)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", timeout=15)
        observer.publish(f"{PREFIX}/command", json.dumps({"text": "turn on the hallway light", "id": 1}))
        assert observer.reply(1)["success"] is True
        observer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        broker.stop()


def test_sighup_reload_keeps_old_config_when_invalid(tmp_path):
    broker = Broker(tmp_path).start()
    config = write_config(tmp_path, broker.port)
    proc = start_service(config)
    try:
        observer = Observer(broker.port)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", timeout=20)
        original = config.read_text()
        config.write_text(original + "\nbogus_section: 1\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        observer.publish(f"{PREFIX}/command", json.dumps({"text": "turn on the hallway light", "id": 1}))
        assert observer.reply(1)["success"] is True
        data = yaml.safe_load(original)
        data["devices"].append({"id": "light.shed", "name": "Shed Light", "area": "Garden", "domain": "light",
                                "protocol": "zigbee2mqtt", "topic": "zigbee2mqtt/shed"})  # fmt: skip
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        proc.send_signal(signal.SIGHUP)
        observer.wait_for(f"{PREFIX}/devices", lambda p: b"light.shed" in p, timeout=10)
        mark = observer.mark()
        observer.publish(f"{PREFIX}/command", json.dumps({"text": "turn on the shed light", "id": 2}))
        assert observer.reply(2)["success"] is True
        assert ("zigbee2mqtt/shed/set", b'{"state":"ON"}') in [(t, p) for t, p, _ in observer.since(mark)]
        observer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        broker.stop()
    log = (tmp_path / "service.log").read_text()
    assert "reload failed" in log and "bogus_section" in log


def test_broken_config_exits_2_with_check_config_message(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("mqtt:\n  host: localhost\n  prot: 1883\ndevices: []\n")
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "run", "--config", str(bad)], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    check = subprocess.run([sys.executable, "-m", "assistant.cli", "check-config", "--config", str(bad)], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)  # fmt: skip
    assert run.returncode == check.returncode == 2
    assert run.stderr == check.stderr == f"error: {bad}:3: mqtt.prot: unknown field (a typo?)\n"


def _make_certs(tmp_path: Path) -> dict[str, Path]:
    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.pem")  # fmt: skip
    return {name: tmp_path / f"{name}" for name in ("ca.pem", "server.pem", "server.key")}


def test_tls_with_hostname_check(tmp_path, config, understander):
    from .test_daemon import running, with_broker

    certs = _make_certs(tmp_path)
    broker = Broker(tmp_path, extra=f"allow_anonymous true\ncafile {certs['ca.pem']}\ncertfile {certs['server.pem']}\n"
                                    f"keyfile {certs['server.key']}\n").start()  # fmt: skip
    try:
        tls = {"ca_file": str(certs["ca.pem"]), "check_hostname": True}
        from assistant.config import Tls

        good = with_broker(config, broker.port, tls=Tls(**tls))
        with running(good, understander) as daemon:
            assert daemon.link.wait_connected(10)
        # the certificate names localhost and 127.0.0.1, not this name: hostname checking refuses it
        wrong_name = with_broker(config, broker.port, tls=Tls(**tls))
        wrong_name = wrong_name.model_copy(update={"mqtt": wrong_name.mqtt.model_copy(update={"host": "127.0.0.2"})})
        with running(wrong_name, understander) as daemon:
            assert not daemon.link.wait_connected(3)
    finally:
        broker.stop()


def test_username_and_password_from_credentials_directory(tmp_path, config, understander):
    from assistant.mqtt.link import Credentials

    from .test_daemon import running, with_broker

    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "pi", "s3cret"], check=True, capture_output=True)
    passwords.chmod(0o600)
    broker = Broker(tmp_path, extra=f"allow_anonymous false\npassword_file {passwords}\n").start()
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt_username").write_text("pi\n")
    (creds / "mqtt_password").write_text("s3cret\n")
    try:
        credentials = Credentials.from_environment({"CREDENTIALS_DIRECTORY": str(creds)})
        assert credentials == Credentials("pi", "s3cret")
        with running(with_broker(config, broker.port), understander, credentials=credentials) as daemon:
            assert daemon.link.wait_connected(10)
        with running(with_broker(config, broker.port), understander,
                     credentials=Credentials("pi", "wrong")) as daemon:  # fmt: skip
            assert not daemon.link.wait_connected(3)
    finally:
        broker.stop()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_unit_file_verifies(tmp_path):
    unit = (ROOT / "systemd" / "assistant.service").read_text()
    exe = shutil.which("assistant") or str(Path(sys.executable).with_name("assistant"))
    unit = unit.replace("/opt/assistant/.venv/bin/assistant", exe)
    path = tmp_path / "assistant.service"
    path.write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if "assistant.service" in line]
    assert result.returncode == 0 and problems == [], result.stderr
    for needed in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=", "LoadCredential=",
                   "NoNewPrivileges=yes", "ProtectSystem=strict", "SupplementaryGroups=audio"):  # fmt: skip
        assert needed in unit


def test_demo_shows_commands_devices_and_replies():
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "demo", "--config", str(CONFIG),
                           "turn on the living room lamp", "is the garage door open"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "device: zigbee2mqtt/living_room_lamp/set  {\"state\":\"ON\"}" in out
    assert "reply:  No, the Garage Door is closed." in out


def test_demo_output_is_not_mixed_with_log_lines():
    """On a terminal stdout and stderr show together: without -v only the demo's own lines are there."""
    command = [sys.executable, "-m", "assistant.cli", "demo", "--config", str(CONFIG), "turn on the hallway light"]
    proc = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line]
    assert lines[0].startswith("embedded MQTT broker (amqtt) on 127.0.0.1:")
    assert re.fullmatch(r"assistant service connected \(\d+ devices\)", lines[1]), lines
    assert lines[2:] == ["> turn on the hallway light", '  device: zigbee2mqtt/hallway_light/set  {"state":"ON"}',
                         "  reply:  Turned on the Hallway Light.  (success=True)"]  # fmt: skip
    verbose = subprocess.run(command + ["-v"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verbose.returncode == 0, verbose.stderr
    assert "INFO assistant.service.daemon: command from mqtt: 'turn on the hallway light' -> done" in verbose.stderr
    assert "INFO" not in verbose.stdout and "> turn on the hallway light" in verbose.stdout


def test_sighup_while_starting_is_a_reload_not_an_exit(tmp_path):
    broker = Broker(tmp_path).start()
    config = write_config(tmp_path, broker.port)
    proc = start_service(config)
    log = config.parent / "service.log"
    try:
        deadline = time.monotonic() + 20
        while b"starting: loading" not in (log.read_bytes() if log.exists() else b""):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGHUP)  # the models are still loading
        observer = Observer(broker.port)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", timeout=20)
        observer.publish(f"{PREFIX}/command", json.dumps({"text": "turn on the hallway light", "id": 1}))
        assert observer.reply(1)["success"] is True
        assert proc.poll() is None
        assert b"reloaded" in log.read_bytes()
        observer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        broker.stop()


def test_sd_notify_never_blocks_on_a_receiver_that_stopped_reading(tmp_path):
    import threading

    from assistant.systemd import Notifier

    path = tmp_path / "stuck.sock"
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(str(path))  # never read: its queue fills
    notifier = Notifier({"NOTIFY_SOCKET": str(path)})
    sent = threading.Event()

    def flood() -> None:
        for _ in range(5000):
            notifier.watchdog()
        sent.set()

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        assert sent.wait(30), "sd_notify blocked on a full socket"
    finally:
        stuck.close()
