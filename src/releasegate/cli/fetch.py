"""`releasegate fetch`: verify a license, then download and decrypt a release (client-api.md §6).

The reference client as a command. Exit 1 when the server refuses or the download is corrupt
or unreachable, 2 for local errors (arguments, key file, output path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from releasegate.fetch import (
    ChallengeMismatch,
    Downloaded,
    Refused,
    ReleasegateClient,
    StreamCorrupt,
    default_hardware_identifier,
)
from releasegate.fetch import Progress as ProgressCallback
from releasegate.kit.session_key import load_public_key

REMOTE_FAILURE = 1
LOCAL_FAILURE = 2
TIMEOUT = httpx.Timeout(30.0)


class FetchFailed(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, repr=False)  # repr=False: never print the license key
class FetchRequest:
    server: str
    team: str
    license_key: str
    product: str
    hardware_identifier: str
    version: str | None
    branch: str | None
    customer: str | None


def _exit(message: str, exit_code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=exit_code)


def _read_public_key(path: Path) -> RSAPublicKey:
    try:
        text = path.read_bytes()
    except OSError as exc:
        _exit(f"cannot read public key file {path}: {exc.strerror or exc}", LOCAL_FAILURE)
    try:
        return load_public_key(text)
    except ValueError:
        _exit(
            f"{path} holds no RSA public key (expected an SPKI PEM or base64 of one)",
            LOCAL_FAILURE,
        )


def _transport_failure(request: FetchRequest, exc: httpx.HTTPError) -> str:
    reason = str(exc) or type(exc).__name__
    # httpx messages can quote the request URL, whose query holds the license and session key.
    if "?" in reason or request.license_key in reason:
        reason = type(exc).__name__
    return f"cannot complete the request to {request.server}: {reason}"


@contextlib.contextmanager
def _staged_output(out: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A new file beside `out` (so the final rename is atomic), removed unless renamed."""
    staged = out.with_name(f".{out.name}.{secrets.token_hex(6)}.part")
    try:
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise FetchFailed(
            f"cannot write next to {out}: {exc.strerror or exc}", LOCAL_FAILURE
        ) from None
    try:
        with os.fdopen(descriptor, "wb") as sink:
            yield sink, staged
    finally:
        staged.unlink(missing_ok=True)


@contextlib.contextmanager
def _progress_bar() -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("download", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


async def _fetch(request: FetchRequest, public_key: RSAPublicKey, out: Path) -> Downloaded:
    with _staged_output(out) as (sink, staged):  # first, so a bad --out fails before any request
        async with httpx.AsyncClient(base_url=request.server, timeout=TIMEOUT) as http:
            client = ReleasegateClient(http, request.team, public_key)
            await client.verify(
                request.license_key,
                product_id=request.product,
                version=request.version,
                branch=request.branch,
                hardware_identifier=request.hardware_identifier,
                customer_id=request.customer,
            )
            with _progress_bar() as progress:
                downloaded = await client.download(
                    request.license_key,
                    request.product,
                    request.hardware_identifier,
                    version=request.version,
                    branch=request.branch,
                    customer_id=request.customer,
                    sink=sink,
                    progress=progress,
                )
        sink.flush()
        os.fsync(sink.fileno())
        try:
            staged.replace(out)
        except OSError as exc:
            raise FetchFailed(f"cannot write {out}: {exc.strerror or exc}", LOCAL_FAILURE) from None
    return downloaded


def _summary(out: Path, downloaded: Downloaded) -> str:
    return (
        f"{out}: version {downloaded.version or '-'}, {downloaded.size} bytes, "
        f"sha256 {downloaded.sha256}, main class {downloaded.main_class or '-'}"
    )


def fetch_command(
    server: Annotated[str, typer.Option(help="Server root URL, e.g. https://releases.example")],
    team: Annotated[str, typer.Option(help="Team id")],
    public_key: Annotated[
        Path, typer.Option("--public-key", help="Team public key: SPKI PEM or base64 of it")
    ],
    license_key: Annotated[str, typer.Option("--license", help="License key")],
    product: Annotated[str, typer.Option(help="Product id")],
    out: Annotated[Path, typer.Option(help="Where to write the decrypted file")],
    version: Annotated[str | None, typer.Option(help="Release version (default: latest)")] = None,
    branch: Annotated[
        str | None, typer.Option(help="Branch name (default branch if absent)")
    ] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id")] = None,
    hardware_identifier: Annotated[
        str | None,
        typer.Option(help="Hardware identifier (default: derived from this machine's id)"),
    ] = None,
) -> None:
    """Verify a license (with a signed challenge), then download and decrypt a release."""
    if not server.startswith(("http://", "https://")):
        _exit("--server must be an http:// or https:// URL", LOCAL_FAILURE)
    if out.is_dir():
        _exit(f"--out {out} is a directory", LOCAL_FAILURE)
    key = _read_public_key(public_key)
    request = FetchRequest(
        server=server,
        team=team,
        license_key=license_key,
        product=product,
        hardware_identifier=hardware_identifier or default_hardware_identifier(),
        version=version,
        branch=branch,
        customer=customer,
    )
    try:
        downloaded = asyncio.run(_fetch(request, key, out))
    except Refused as exc:
        _exit(f"{exc.details} ({exc.code})", REMOTE_FAILURE)
    except ChallengeMismatch:
        _exit(
            "the server's challenge response does not match the team public key",
            REMOTE_FAILURE,
        )
    except StreamCorrupt as exc:
        _exit(f"the download is corrupt: {exc}; nothing was written", REMOTE_FAILURE)
    except httpx.InvalidURL:
        _exit("--server is not a valid URL", LOCAL_FAILURE)
    except httpx.HTTPError as exc:
        _exit(_transport_failure(request, exc), REMOTE_FAILURE)
    except FetchFailed as exc:
        _exit(str(exc), exc.exit_code)
    except OSError as exc:
        _exit(f"cannot write {out}: {exc.strerror or exc}", LOCAL_FAILURE)
    typer.echo(_summary(out, downloaded))
