"""The ``onestack`` command: up, down, status, keys rotate, snapshot."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from onestack import __version__
from onestack.config import SERVICE_NAMES, Settings, default_state_dir, load_settings
from onestack.fixture.cli import fault as fault_commands
from onestack.fixture.cli import reset as reset_command
from onestack.image.cli import image as image_commands
from onestack.network.cli import doctor as doctor_command
from onestack.object.cli import ring as ring_commands
from onestack.snapshots.cli import snapshot as snapshot_commands

STATE_FILE = "onestack.state.json"
LOCK_FILE = "onestack.lock"
LOG_FILE = "onestack.log"
HOST_STATE_FILE = "host.state.json"


def _settings(
    state_dir: Path | None,
    config: Path | None,
    db_url: str | None,
    bind: str | None,
    ports: tuple[str, ...],
    **extra: Any,
) -> Settings:
    flags: dict[str, Any] = {
        "state_dir": state_dir,
        "config_file": config,
        "db_url": db_url,
        "bind_host": bind,
        **extra,
    }
    if ports:
        chosen: dict[str, int] = {}
        for item in ports:
            name, _, value = item.partition("=")
            if name not in SERVICE_NAMES or not value.isdigit():
                raise click.BadParameter(
                    f"{item!r}: use SERVICE=PORT with SERVICE one of {', '.join(SERVICE_NAMES)}",
                    param_hint="--port",
                )
            chosen[name] = int(value)
        base = load_settings(**flags)
        flags["ports"] = base.ports.model_copy(update=chosen)
    try:
        return load_settings(**flags)
    except Exception as exc:  # pydantic's ValidationError and TOML errors
        raise click.ClickException(f"invalid settings: {exc}") from None


def _common(fn: Any) -> Any:
    fn = click.option(
        "--state-dir",
        type=click.Path(path_type=Path),
        default=None,
        help=f"State directory (default {default_state_dir()}).",
    )(fn)
    fn = click.option(
        "--config",
        type=click.Path(path_type=Path, exists=True),
        default=None,
        help="TOML settings file.",
    )(fn)
    return fn


@click.group()
@click.version_option(__version__, prog_name="onestack")
def main() -> None:
    """An OpenStack-compatible cloud in one command."""


@main.command()
@_common
@click.option("--db-url", default=None, help="SQLAlchemy URL (PostgreSQL or MariaDB).")
@click.option("--bind", default=None, help="Address the APIs listen on (default 127.0.0.1).")
@click.option(
    "--port",
    "ports",
    multiple=True,
    metavar="SERVICE=PORT",
    help="Port of one service, e.g. --port identity=15000 (repeatable).",
)
@click.option("--bus-url", default=None, help="memory:// (default) or amqp://...")
@click.option(
    "--public-cidr",
    default=None,
    metavar="CIDR",
    help="Range of the external network `public` (network.public_cidr; default "
    "172.24.4.0/24, or the first free 172.24.N.0/24 when another cloud on this host has it).",
)
@click.option("--detach", is_flag=True, help="Run in the background; `onestack down` stops it.")
@click.option(
    "--controller",
    is_flag=True,
    default=None,
    help="APIs, scheduler and conductor only; hosts join with `onestack host join`.",
)
@click.option(
    "--no-user-clouds",
    is_flag=True,
    help="Do not merge entries into ~/.config/openstack/clouds.yaml.",
)
def up(
    state_dir: Path | None,
    config: Path | None,
    db_url: str | None,
    bind: str | None,
    ports: tuple[str, ...],
    bus_url: str | None,
    public_cidr: str | None,
    detach: bool,
    controller: bool | None,
    no_user_clouds: bool,
) -> None:
    """Start the whole cloud (foreground unless --detach)."""
    started = time.monotonic()
    extra: dict[str, Any] = {"bus_url": bus_url, "controller": controller}
    if public_cidr is not None:
        extra["network"] = {"public_cidr": public_cidr}
    if no_user_clouds:
        extra["user_clouds_yaml"] = ""
    settings = _settings(state_dir, config, db_url, bind, ports, **extra)
    if detach:
        _detach(settings)
        return
    _run(settings, started)


def _run(settings: Settings, started: float) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    lock = open(settings.state_dir / LOCK_FILE, "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise click.ClickException(f"another onestack is running on {settings.state_dir}") from None
    from onestack.clouds import write_clouds
    from onestack.network.public_range import PublicRangeInUse
    from onestack.server import Cloud, PortInUse, serve

    _claim(settings.state_dir)
    cloud = Cloud(settings)
    try:
        result = cloud.prepare()
    except PublicRangeInUse as exc:
        cloud.close()
        _release(settings.state_dir)
        lock.close()
        raise click.ClickException(str(exc)) from None
    for warning in write_clouds(settings, result):
        click.echo(f"warning: {warning}", err=True)
    state_path = settings.state_dir / STATE_FILE
    token_path = _join_token(settings)

    def ready() -> None:
        endpoints = {p.name: settings.url(p.name) for p in cloud.api_plugins()}
        state = {
            "pid": os.getpid(),
            "endpoints": endpoints,
            "state_dir": str(settings.state_dir),
            "db": _redact(settings.database_url),
            "notices": cloud.notices,
        }
        state_path.write_text(json.dumps(state, indent=2))
        elapsed = time.monotonic() - started
        click.echo(
            f"onestack {__version__} is up in {elapsed:.2f}s "
            f"(state in {settings.state_dir}, database {_redact(settings.database_url)})"
        )
        for name, url in endpoints.items():
            click.echo(f"  {name:<14} {url}")
        for notice in cloud.notices:
            click.echo(f"note: {notice}")
        click.echo(f"  admin / {result.admin_password}  (project admin)")
        click.echo(f"  demo  / {result.demo_password}  (project demo)")
        if "dashboard" in endpoints:
            click.echo(
                f"dashboard: {endpoints['dashboard']}/ (domain Default, "
                f"user demo, password {result.demo_password})"
            )
        click.echo(
            f"clouds.yaml: {settings.state_dir / 'clouds.yaml'}; try "
            "`openstack --os-cloud onestack token issue`"
        )
        if token_path is not None:
            click.echo(
                f"hosts join with: onestack host join --token-file {token_path} "
                "--name NAME --roles compute[,network] --state-dir DIR"
            )
        sys.stdout.flush()

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(serve(cloud, on_ready=ready))
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        cloud.close()
        state_path.unlink(missing_ok=True)
        _release(settings.state_dir)
        lock.close()
    click.echo("onestack stopped")


def _claim(state_dir: Path) -> None:
    """Write this cloud's host-wide owner record (root only: others make nothing on the
    host that outlives them)."""
    if os.geteuid() != 0:
        return
    from onestack.common import owners

    try:
        owners.claim(state_dir)
    except OSError as exc:
        click.echo(f"warning: no host-wide owner record ({exc})", err=True)


def _release(state_dir: Path) -> None:
    """Forget the owner record when the cloud left nothing on the host."""
    if os.geteuid() != 0:
        return
    from onestack import lifecycle
    from onestack.common import owners

    owner = owners.read(state_dir)
    if owner is not None and lifecycle.trace(owner).empty():
        owners.forget(owner)


def _join_token(settings: Settings) -> Path | None:
    """A cloud whose database and bus other hosts can reach writes its join token."""
    if settings.bus_url.startswith("memory:") or settings.database_url.startswith("sqlite:"):
        if settings.controller:
            raise click.ClickException(
                "a controller needs a database and a bus that hosts reach: --db-url "
                "postgresql://... or mysql://..., and --bus-url amqp://..."
            )
        return None
    from onestack.common.keystone_client import password_file
    from onestack.node import write_token
    from onestack.volume.service import SERVICE_USER as VOLUME_USER

    password = settings.compute.service_password or (
        password_file(settings.state_dir, settings.compute.service_user).read_text().strip()
    )
    metering = settings.telemetry.service_password or ""
    metering_file = password_file(settings.state_dir, settings.telemetry.service_user)
    if not metering and metering_file.exists():
        metering = metering_file.read_text().strip()
    volume_file = password_file(settings.state_dir, VOLUME_USER)
    volume = settings.volume.service_password or (
        volume_file.read_text().strip() if volume_file.exists() else ""
    )
    return write_token(settings, password, metering, volume)


def _loop_factory() -> Any:
    """uvloop where it is installed (it is a dependency), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _detach(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / LOCK_FILE, "a") as probe:
        try:  # refused before anything of the running one's is touched (its state file)
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise click.ClickException(
                f"another onestack is running on {settings.state_dir}"
            ) from None
        fcntl.flock(probe, fcntl.LOCK_UN)
    args = [arg for arg in sys.argv[1:] if arg != "--detach"]
    log_path = settings.state_dir / LOG_FILE
    state_path = settings.state_dir / STATE_FILE
    state_path.unlink(missing_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "onestack", *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(
                f"onestack exited early; see {log_path}:\n" + _tail(log_path)
            )
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text())
            except ValueError:
                state = {}
            if state.get("pid") == process.pid:
                click.echo(
                    f"onestack is running in the background (pid {process.pid}); log: {log_path}"
                )
                for name, url in state["endpoints"].items():
                    click.echo(f"  {name:<14} {url}")
                for notice in state.get("notices", []):
                    click.echo(f"note: {notice}")
                click.echo(f"clouds.yaml: {settings.state_dir / 'clouds.yaml'}")
                return
        time.sleep(0.05)
    raise click.ClickException(f"onestack did not become ready; see {log_path}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(state["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return None
    return dict(state)


@main.command()
@_common
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait.")
@click.option(
    "--purge",
    is_flag=True,
    help="Also end the instances (containers, VMs) and remove everything the cloud made "
    "on the host.",
)
@click.option(
    "--delete-state", is_flag=True, help="Also delete the state directory (implies --purge)."
)
def down(
    state_dir: Path | None, config: Path | None, timeout: float, purge: bool, delete_state: bool
) -> None:
    """Stop onestack: the APIs and agents stop; when no instance runs (or with --purge),
    everything it made on the host goes too."""
    settings = _settings(state_dir, config, None, None, ())
    state = _read_state(settings.state_dir)
    if state is None:
        click.echo(f"onestack is not running on {settings.state_dir}")
    else:
        _stop(int(state["pid"]), timeout)
    purge = purge or delete_state
    if os.geteuid() == 0:
        _clean_host(settings.state_dir, purge)
    elif purge:
        raise click.ClickException("--purge needs root (it ends instances and removes devices)")
    if delete_state and settings.state_dir.exists():
        import shutil

        shutil.rmtree(settings.state_dir)
        click.echo(f"deleted the state directory {settings.state_dir}")


def _stop(pid: int, timeout: float) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _runs(pid):
            click.echo(f"onestack (pid {pid}) stopped")
            return
        time.sleep(0.05)
    raise click.ClickException(f"onestack (pid {pid}) did not stop within {timeout}s")


def _runs(pid: int) -> bool:
    """Whether ``pid`` still runs (a process that ended but was not reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _clean_host(state_dir: Path, purge: bool) -> None:
    """Say what stays on the host, or remove it (``lifecycle.after_stop``)."""
    from onestack import lifecycle

    try:
        report = lifecycle.after_stop(state_dir, purge)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if report.kept is not None:
        kept = report.kept
        click.echo(
            f"{len(kept.instances)} instance(s) still run and stay: "
            f"{', '.join(kept.instances)} (instances outlive the service)"
        )
        click.echo(
            f"kept on the host for them: {kept.summary()} (their networks, DHCP, routers "
            "and floating IPs keep working); `onestack up` takes them back, "
            "`onestack down --purge` ends them and removes everything"
        )
    elif report.removed is not None:
        ended = report.removed.instances
        if ended:
            click.echo(f"ended {len(ended)} instance(s): {', '.join(ended)}")
        click.echo(f"removed from the host: {report.removed.summary()}")
    for problem in report.problems:
        click.echo(f"warning: not removed: {problem}", err=True)


@main.command()
@_common
def status(state_dir: Path | None, config: Path | None) -> None:
    """Say whether onestack runs, where, and whether each API answers."""
    import urllib.error
    import urllib.request

    settings = _settings(state_dir, config, None, None, ())
    state = _read_state(settings.state_dir)
    if state is None:
        click.echo(f"onestack is not running (state directory {settings.state_dir})")
        sys.exit(3)
    click.echo(
        f"onestack is running: pid {state['pid']}, state directory {state['state_dir']}, "
        f"database {state.get('db', '?')}"
    )
    for name, url in state["endpoints"].items():
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:
                health = f"answers ({response.status})"
        except urllib.error.HTTPError as exc:
            health = f"answers ({exc.code})"
        except OSError as exc:
            health = f"NOT answering ({exc})"
        click.echo(f"  {name:<14} {url}  {health}")


@main.group()
def config() -> None:
    """Inspect onestack's settings."""


@config.command("reference")
def config_reference() -> None:
    """Print the settings reference (docs/configuration.md) in Markdown."""
    from onestack.config_doc import reference

    click.echo(reference(), nl=False)


@config.command("show")
@_common
def config_show(state_dir: Path | None, config: Path | None) -> None:
    """Print the effective settings as JSON (passwords hidden)."""
    settings = _settings(state_dir, config, None, None, ())
    data = json.loads(settings.model_dump_json())
    for key in ("admin_password", "demo_password"):
        if data.get(key):
            data[key] = "***"
    if data.get("db_url"):
        data["db_url"] = _redact(data["db_url"])
    click.echo(json.dumps(data, indent=2))


@main.group()
def keys() -> None:
    """Manage the Fernet keys that sign tokens."""


@keys.command("rotate")
@_common
def keys_rotate(state_dir: Path | None, config: Path | None) -> None:
    """Promote the staged key; tokens issued before stay valid."""
    from onestack.identity.fernet import KeyRepository

    settings = _settings(state_dir, config, None, None, ())
    repo = KeyRepository(
        settings.state_dir / "fernet-keys", settings.identity.fernet_max_active_keys
    )
    repo.initialize()
    index = repo.rotate()
    click.echo(f"rotated: key {index} is now primary in {repo.directory}")


@main.group()
def host() -> None:
    """Join this machine (or a simulated host) to a cloud as a compute or network host."""


@host.command("join")
@click.argument("token", required=False)
@click.option("--token-file", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--name", required=True, help="This host's name (compute service, agents).")
@click.option(
    "--roles", default="compute", show_default=True, help="Comma-separated: compute, network."
)
@click.option("--state-dir", type=click.Path(path_type=Path), required=True)
@click.option("--local-ip", default=None, help="This host's VXLAN tunnel endpoint address.")
@click.option("--underlay-netns", default=None, help="Namespace holding --local-ip.")
@click.option("--namespace-scope", default=None, help="Scope of this host's namespaces.")
@click.option("--driver", default=None, help="Compute driver: container, fake, auto.")
def host_join(
    token: str | None,
    token_file: Path | None,
    name: str,
    roles: str,
    state_dir: Path,
    local_ip: str | None,
    underlay_netns: str | None,
    namespace_scope: str | None,
    driver: str | None,
) -> None:
    """Run this host's agents for the cloud whose join TOKEN (or --token-file) is given."""
    from onestack.node import JoinToken, JoinTokenError, host_settings, run_node

    text = token_file.read_text() if token_file is not None else token
    if not text:
        raise click.UsageError("give the controller's join token or --token-file")
    try:
        parsed = JoinToken.decode(text)
    except JoinTokenError as exc:
        raise click.ClickException(str(exc)) from None
    wanted = {r.strip() for r in roles.split(",") if r.strip()}
    settings = host_settings(parsed, name, wanted, state_dir=state_dir)
    network = settings.network.model_copy(
        update={k: v for k, v in {"local_ip": local_ip, "underlay_netns": underlay_netns,
                                  "namespace_scope": namespace_scope}.items() if v is not None}
    )  # fmt: skip
    compute = settings.compute
    if driver is not None:
        compute = compute.model_copy(update={"driver": driver})
    settings = settings.model_copy(update={"network": network, "compute": compute})
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    _claim(state_dir)
    state_path = state_dir / HOST_STATE_FILE

    def ready() -> None:
        state_path.write_text(json.dumps({"pid": os.getpid(), "name": name,
                                          "roles": sorted(wanted)}))  # fmt: skip
        click.echo(f"host {name} joined with roles {', '.join(sorted(wanted))}")
        sys.stdout.flush()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_node(settings, wanted, stop, ready)

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        state_path.unlink(missing_ok=True)
    click.echo(f"host {name} stopped")


@host.command("token")
@_common
def host_token(state_dir: Path | None, config: Path | None) -> None:
    """Print the controller's join token (a credential: keep it private)."""
    from onestack.node import TOKEN_FILE

    settings = _settings(state_dir, config, None, None, ())
    path = settings.state_dir / TOKEN_FILE
    if not path.exists():
        raise click.ClickException(f"no join token in {settings.state_dir}: start a controller")
    click.echo(path.read_text().strip())


@main.group()
def cluster() -> None:
    """A controller and simulated hosts on this machine (scale-out, tried on one machine)."""


@cluster.command("up")
@click.option("--state-dir", type=click.Path(path_type=Path), required=True)
@click.option("--hosts", "count", type=click.IntRange(1, 64), default=3, show_default=True)
@click.option("--db-url", required=True, help="PostgreSQL or MariaDB URL (an empty database).")
@click.option("--bus-url", required=True, help="amqp://user:password@host:port/vhost")
@click.option(
    "--network-hosts", type=click.IntRange(0, 64), default=1, show_default=True,
    help="How many of the hosts (the first ones) also get the network role.",
)  # fmt: skip
@click.option(
    "--object-hosts", type=click.IntRange(0, 64), default=0, show_default=True,
    help="How many of the hosts (the last ones) are also storage nodes (a zone each).",
)  # fmt: skip
@click.option("--driver", default="auto", show_default=True, help="Compute driver of the hosts.")
@click.option("--port", "ports", multiple=True, metavar="SERVICE=PORT")
def cluster_up(
    state_dir: Path,
    count: int,
    db_url: str,
    bus_url: str,
    network_hosts: int,
    object_hosts: int,
    driver: str,
    ports: tuple[str, ...],
) -> None:
    """Start a controller and N simulated hosts (each in network namespaces of its own)."""
    from onestack.cluster import Cluster, ClusterError, HostSpec

    chosen: dict[str, int] = {}
    for item in ports:
        name, _, value = item.partition("=")
        if name not in SERVICE_NAMES or not value.isdigit():
            raise click.BadParameter(f"{item!r}: use SERVICE=PORT", param_hint="--port")
        chosen[name] = int(value)
    hosts = []
    for n in range(1, count + 1):
        roles = ["compute"] + (["network"] if n <= network_hosts else [])
        roles += ["object"] if n > count - object_hosts else []
        hosts.append(HostSpec(f"host-{n}", tuple(roles)))
    try:
        state = Cluster(state_dir).up(hosts, db_url, bus_url, ports=chosen, driver=driver)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"cluster {state.id} is up (state in {state_dir})")
    for name, url in state.endpoints.items():
        click.echo(f"  {name:<14} {url}")
    for host in state.hosts:
        click.echo(
            f"  host {host['name']:<10} roles {','.join(host['roles']):<16} "
            f"underlay {host['address']} (namespace {host['netns']})"
        )
    click.echo(f"clouds.yaml: {state_dir / 'clouds.yaml'}; `onestack cluster down` removes it all")


@cluster.command("down")
@click.option("--state-dir", type=click.Path(path_type=Path), required=True)
def cluster_down(state_dir: Path) -> None:
    """Stop every process of the cluster and remove its namespaces and devices."""
    from onestack.cluster import Cluster

    Cluster(state_dir).down()
    click.echo(f"cluster in {state_dir} is down")


@main.command("dashboard")
@click.option(
    "--auth-url",
    required=True,
    envvar="OS_AUTH_URL",
    help="Keystone v3 URL of the cloud, e.g. http://controller:5000/v3.",
)
@click.option("--region", default=None, envvar="OS_REGION_NAME", help="Region of the endpoints.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--secret-file",
    type=click.Path(path_type=Path),
    default=None,
    help="File holding the CSRF signing secret (made when missing); share it between "
    "replicas. Default: a new secret per process.",
)
@click.option("--secure-cookies", is_flag=True, help="Mark the session cookie Secure (HTTPS).")
def dashboard_command(
    auth_url: str,
    region: str | None,
    bind: str,
    port: int,
    secret_file: Path | None,
    secure_cookies: bool,
) -> None:
    """Serve the web dashboard on its own, against any onestack (or OpenStack) cloud."""
    import secrets as secrets_module

    import uvicorn

    from onestack.dashboard.app import DashboardConfig, build_app
    from onestack.dashboard.conf import DashboardSettings
    from onestack.dashboard.service import load_secret

    defaults = DashboardSettings()
    secret = load_secret(secret_file) if secret_file else secrets_module.token_bytes(32)
    config = DashboardConfig(
        auth_url=auth_url,
        secret=secret,
        region=region,
        secure_cookies=secure_cookies,
        session_check_seconds=defaults.session_check_seconds,
        vendor_dir=defaults.vendor_dir,
        novnc_dir=defaults.novnc_dir,
        npm_dir=defaults.npm_path,
        console_ttl_seconds=defaults.console_ttl_seconds,
    )
    click.echo(f"dashboard: http://{bind}:{port}/ (Keystone {auth_url})")
    uvicorn.run(build_app(config), host=bind, port=port, log_level="warning", server_header=False)


main.add_command(image_commands)
main.add_command(ring_commands)
main.add_command(doctor_command)
main.add_command(reset_command)
main.add_command(fault_commands)
main.add_command(snapshot_commands)
