"""Who is acting: a staff member with their grants, or the system itself (jobs, CLI, workers).

Every service takes an actor first and asks it before writing; the actor is built once per request
(or per job) from memberships, so a check is a set lookup, not a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sojourn.core.errors import AccessDenied
from sojourn.core.permissions import PROGRAM_WIDE, ROLE_PERMISSIONS, Permission, Role


@dataclass(frozen=True)
class Grant:
    """A role in one program, limited to some markets (country codes) or to all (None)."""

    program_id: int
    role: Role
    markets: frozenset[str] | None = None
    # An API token's scope narrows the role to these permissions (None: all of the role's).
    only: frozenset[Permission] | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        held = ROLE_PERMISSIONS[self.role]
        return held if self.only is None else held & self.only

    def allows(self, permission: Permission, program_id: int, market: str | None) -> bool:
        if program_id != self.program_id or permission not in self.permissions:
            return False
        if market is None or self.markets is None:
            # A market-less question is answered for a market-limited grant only when the
            # permission is about the program as a whole and the grant covers every market.
            return self.markets is None or permission not in PROGRAM_WIDE
        return market in self.markets


@dataclass(frozen=True)
class Actor:
    kind: str  # "staff", "system", "patient", "hcp", "anonymous"
    label: str
    user_id: int | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    is_platform_admin: bool = False
    via_token: bool = False  # acting through an API token (see narrowed)

    @classmethod
    def system(cls, label: str) -> Actor:
        """Return the actor for work the platform does itself (a job, a CLI command)."""
        return cls(kind="system", label=label)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(kind="anonymous", label="anonymous")

    @property
    def is_privileged(self) -> bool:
        return self.kind == "system" or self.is_platform_admin

    @property
    def audit_id(self) -> str:
        return str(self.user_id) if self.user_id is not None else ""

    def can(self, permission: Permission, program_id: int, market: str | None = None) -> bool:
        if self.is_privileged:
            return True
        return any(g.allows(permission, program_id, market) for g in self.grants)

    def require(self, permission: Permission, program_id: int, market: str | None = None) -> None:
        if not self.can(permission, program_id, market):
            raise AccessDenied()

    def program_ids(self, permission: Permission = Permission.PROGRAM_VIEW) -> set[int] | None:
        """Programs where the actor holds the permission in some market; None means every program."""
        if self.is_privileged:
            return None
        return {g.program_id for g in self.grants if permission in g.permissions}

    def markets_in(self, permission: Permission, program_id: int) -> frozenset[str] | None:
        """Markets of one program where the actor holds the permission; None means all of them."""
        if self.is_privileged:
            return None
        markets: set[str] = set()
        for g in self.grants:
            if g.program_id == program_id and permission in g.permissions:
                if g.markets is None:
                    return None
                markets |= g.markets
        return frozenset(markets)

    def narrowed(self, program_ids: frozenset[int] | None, markets: frozenset[str] | None,
                 permissions: frozenset[Permission] | None) -> Actor:
        """Return this actor held to an API token's scope: some programs (None: all of the actor's),
        some markets within them, some permissions; never more than the actor holds.

        A platform administrator's scoped token becomes an administrator of the named programs only: a
        scope cannot say "every program", so such a token must name them."""
        if program_ids is None and markets is None and permissions is None:
            return replace(self, via_token=True)
        if self.is_platform_admin:
            grants = [Grant(program_id, Role.ADMIN) for program_id in sorted(program_ids or ())]
        else:
            grants = [g for g in self.grants if program_ids is None or g.program_id in program_ids]
        narrowed = []
        for g in grants:
            kept = g.markets if markets is None else (markets if g.markets is None else g.markets & markets)
            if kept == frozenset():
                continue
            only = g.only if permissions is None else (permissions if g.only is None else g.only & permissions)
            narrowed.append(Grant(g.program_id, g.role, kept, only))
        return Actor(kind=self.kind, label=self.label, user_id=self.user_id, grants=tuple(narrowed), via_token=True)
