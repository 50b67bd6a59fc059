"""A small synthetic team for the team-key tests: an admin, a caseworker and a manager, each
with one laptop, and the directory the admin signed for them."""

from __future__ import annotations

from dataclasses import dataclass

from app.crypto.team import DeviceKeys, Directory, DirectoryDevice, DirectoryUser

TEAM = "team-0190aaaa"
ADDED = "2026-12-01T09:00:00+00:00"


def entry(keys: DeviceKeys, user: str) -> DirectoryDevice:
    return DirectoryDevice(keys.device_id, user, keys.encryption_public, keys.signing_public, ADDED)


@dataclass
class Team:
    admin: DeviceKeys
    worker: DeviceKeys
    manager: DeviceKeys
    directory: Directory

    def pinned(self) -> Directory:
        """What a laptop trusts from the invitation alone: the admin's device at version 0."""
        return Directory.pinned(self.directory.team, entry(self.admin, "u-admin"))


def make_team(team: str = TEAM) -> Team:
    admin = DeviceKeys.generate("dev-admin")
    worker = DeviceKeys.generate("dev-worker")
    manager = DeviceKeys.generate("dev-manager")
    directory = Directory(
        team,
        1,
        (
            DirectoryUser("u-admin", "admin1", frozenset({"admin"})),
            DirectoryUser("u-worker", "worker1", frozenset({"caseworker"})),
            DirectoryUser("u-manager", "manager1", frozenset({"manager"})),
        ),
        (entry(admin, "u-admin"), entry(worker, "u-worker"), entry(manager, "u-manager")),
    )
    return Team(admin, worker, manager, directory)
