"""Who may act for what: the authorisation rules of the domain."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.errors import NotAllowed
from domain.member import Member
from domain.recording import SYSTEM_PREFIX
from domain.values import Role

RECORDING_ROLES = frozenset({Role.STAFF, Role.COORDINATOR, Role.ADMIN})
MANAGING_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """The member (or system job) a command acts for, as checked at the time of the command."""

    ref: str
    member: Member | None = None  # None: a system job such as seed-demo

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ref=f"{SYSTEM_PREFIX}{job}")

    @property
    def member_id(self) -> UUID | None:
        return None if self.member is None else self.member.id

    @property
    def region_id(self) -> UUID | None:
        return None if self.member is None else self.member.region_id

    @property
    def is_system(self) -> bool:
        return self.member is None

    @property
    def is_admin(self) -> bool:
        return self.is_system or self.member.role == Role.ADMIN  # type: ignore[union-attr]

    @property
    def acts_for_all_regions(self) -> bool:
        """The programme office and admins act for every region."""
        return self.is_admin or self.member.is_office  # type: ignore[union-attr]

    def require_recording(self) -> None:
        if self.member is not None and self.member.role not in RECORDING_ROLES:
            raise NotAllowed("auth.read_only", role=str(self.member.role))

    def require_region(self, region_id: UUID) -> None:
        """Record something for a region: members act only for their own region."""
        self.require_recording()
        if not self.acts_for_all_regions and self.region_id != region_id:
            raise NotAllowed("auth.other_region")

    def require_any_region(self, region_ids: tuple[UUID, ...]) -> None:
        """Record something for a twinning: the member's region must be one of its partners."""
        self.require_recording()
        if not self.acts_for_all_regions and self.region_id not in region_ids:
            raise NotAllowed("auth.not_a_partner")

    def require_programme_management(self) -> None:
        """Programmes, regions and twinnings: admins and the office's coordinators."""
        if self.is_admin:
            return
        member = self.member
        assert member is not None
        if not (member.is_office and member.role == Role.COORDINATOR):
            raise NotAllowed("auth.programme_management")

    def require_member_management(self, region_id: UUID | None, role: Role) -> None:
        """Invite, re-role or remove: coordinators for their own region, admins for all.

        Only admins hand out the admin and auditor roles or manage the office.
        """
        if self.is_admin:
            return
        member = self.member
        assert member is not None
        if member.role != Role.COORDINATOR:
            raise NotAllowed("auth.member_management")
        if role in (Role.ADMIN, Role.AUDITOR):
            raise NotAllowed("auth.role_reserved_to_admins", role=str(role))
        if not member.is_office and (region_id is None or region_id != member.region_id):
            raise NotAllowed("auth.other_region")
