"""``onestack image``: the default images."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def image() -> None:
    """Build and register onestack's default images."""


@image.command("build")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="State directory of the cloud to register the image in.",
)
@click.option(
    "--config", type=click.Path(path_type=Path, exists=True), default=None, help="TOML settings."
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Only build the image file here; register nothing.",
)
def build(state_dir: Path | None, config: Path | None, output: Path | None) -> None:
    """Rebuild onestack-busybox and register it (replacing the old one)."""
    from onestack.guests import busybox

    if output is not None:
        try:
            built = busybox.build(output)
        except busybox.BuildError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"built {built.path} from {built.busybox} ({built.applets} applets)")
        return
    from onestack.common.migrations import upgrade
    from onestack.config import load_settings
    from onestack.identity.bootstrap import bootstrap
    from onestack.image.defaults.register import rebuild
    from onestack.image.service import manager_of
    from onestack.server import Cloud

    settings = load_settings(state_dir=state_dir, config_file=config)
    cloud = Cloud(settings)
    try:
        # Migrate and bootstrap only: a running onestack's uploads are left alone.
        upgrade(cloud.db, [p.package for p in cloud.plugins if p.package])
        result = bootstrap(cloud.identity, settings, cloud.catalog_entries())
        record = rebuild(manager_of(cloud), settings.state_dir, result.admin_project_id)
    except busybox.BuildError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        cloud.close()
    click.echo(f"registered {record.name} {record.id} ({record.size} bytes, {record.checksum})")


@image.command("build-vm")
@click.option("--force", is_flag=True, help="Build again even if the cached image exists.")
def build_vm(force: bool) -> None:
    """Build the onestack-vm image into this machine's cache (clouds register it at start)."""
    from onestack.guests import vm

    target = vm.cached_image()
    if target.is_file() and not force:
        click.echo(f"{vm.NAME}: {target} (cached; --force builds it again)")
        return
    try:
        built = vm.build(target)
    except vm.VmBuildError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"built {built.path} (kernel {built.kernel_version}, {len(built.modules)} modules)")
