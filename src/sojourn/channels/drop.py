"""Handing an issue to the print house: files stay in the local drop folder and, when
SOJOURN_PRINT_SFTP_URL is set, are uploaded to the print house's SFTP server (asyncssh, key
authentication, the server's key checked against a known_hosts file). The manifest goes last, so a
print house that waits for it sees a whole batch; a file already there with the same size is not
sent again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import asyncssh
from django.conf import settings

ORDER_LAST = ("SHA256SUMS", "manifest.csv")


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    user: str
    path: PurePosixPath
    key: Path
    known_hosts: Path

    @classmethod
    def from_settings(cls) -> SftpTarget | None:
        url = settings.SOJOURN_PRINT_SFTP_URL
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme != "sftp" or not parts.hostname or not parts.username:
            raise ValueError("SOJOURN_PRINT_SFTP_URL must look like sftp://user@host:22/path")
        return cls(parts.hostname, parts.port or 22, parts.username, PurePosixPath(parts.path or "/"),
                   Path(settings.SOJOURN_PRINT_SFTP_KEY), Path(settings.SOJOURN_PRINT_SFTP_KNOWN_HOSTS))


def _ordered(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return [p for p in files if p.name not in ORDER_LAST] + [folder / n for n in ORDER_LAST if (folder / n).exists()]


async def _upload(target: SftpTarget, folder: Path, remote: PurePosixPath) -> list[str]:
    sent: list[str] = []
    async with asyncssh.connect(target.host, port=target.port, username=target.user, client_keys=[str(target.key)],
                                known_hosts=str(target.known_hosts)) as connection, \
            connection.start_sftp_client() as sftp:
        await sftp.makedirs(str(remote), exist_ok=True)
        for path in _ordered(folder):
            there = str(remote / path.name)
            same = path.name not in ORDER_LAST and await sftp.exists(there) and \
                (await sftp.stat(there)).size == path.stat().st_size
            if not same:
                await sftp.put(str(path), there)
                sent.append(path.name)
    return sent


def hand_over(folder: Path, program_slug: str, label: str, target: SftpTarget | None = None) -> list[str]:
    """Upload the issue folder when an SFTP server is configured; returns the names sent."""
    target = target or SftpTarget.from_settings()
    if target is None:
        return []
    return asyncio.run(_upload(target, folder, target.path / program_slug / label))
