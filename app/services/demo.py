"""Synthetic demo accounts, so a new store can be tried without anybody's real details.

The same seed always gives the same accounts and passphrases. These are for demonstration
and training stores only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.models import users
from app.models.users import Role
from app.services import accounts
from app.services.session import Session

WORDS = (
    "amber anchor apple arch aspen badger basil beacon birch bramble breeze bronze cabin "
    "canal candle canyon cedar chalk cherry cinder clover cobalt comet copper coral cotton "
    "crane creek crystal cypress daisy delta dune ember falcon fennel fern fjord flint "
    "forest fossil garnet ginger glacier granite harbour hazel heather heron hollow indigo "
    "iris ivory jasper juniper kestrel lagoon lantern larch lavender lemon lichen linen "
    "lotus maple marble meadow mint mist moss nectar nutmeg oak oasis olive onyx orchard "
    "otter oyster pebble pepper pine plume poppy prairie quartz quill raven reed ridge "
    "river robin saffron sage salt sapphire shale shell sorrel spruce summit thistle "
    "thyme timber topaz tulip tundra umber valley velvet violet walnut willow wren yarrow"
).split()

ACCOUNTS = (
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("caseworker", frozenset({Role.CASEWORKER})),
    ("manager", frozenset({Role.MANAGER})),
    ("dpo", frozenset({Role.DPO})),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    roles: frozenset[Role]


def passphrase(rng: random.Random, username: str, service: str) -> str:
    while True:
        candidate = "-".join(rng.choice(WORDS) for _ in range(4))
        if accounts.password_problem(candidate, username, service) is None:
            return candidate


def demo_accounts(seed: int) -> list[DemoAccount]:
    """The accounts a demo store gets for ``seed``, with their one-time passphrases."""
    rng = random.Random(seed)
    result = []
    counts: dict[str, int] = {}
    for kind, roles in ACCOUNTS:
        counts[kind] = counts.get(kind, 0) + 1
        name = f"demo-{kind}-{counts[kind]}"
        result.append(DemoAccount(name, passphrase(rng, name, ""), roles))
    return result


def add_demo_accounts(session: Session, seed: int) -> list[DemoAccount]:
    """Add the demo accounts that are not there yet; returns the ones added."""
    added = []
    for account in demo_accounts(seed):
        if users.by_name(session.conn, account.username) is None:
            accounts.add_user(session, account.username, account.password, account.roles)
            added.append(account)
    return added
