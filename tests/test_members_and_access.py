"""Who may act: members for their own region, the office for all, auditors only read."""

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    ChangeMeasureStatus,
    ChangeRole,
    ChooseLanguage,
    EnrolAdmin,
    InviteMember,
    JoinWithInvite,
    RemoveMember,
    ReportProgress,
)
from domain.errors import NotAllowed, RuleViolated
from domain.values import Language, Role
from tests import builders
from tests.builders import SYSTEM, act, get, refused


@pytest.fixture
def pair(service):
    return builders.muenchen_and_steinfurt(service)


def invite(service, actor, region, role, **fields):
    return act(service, actor, InviteMember, region=region, role=role, **fields)


def join(service, code, telegram_user_id=4711, name="Eva Maier"):
    return act(
        service,
        "system:onboarding",
        JoinWithInvite,
        code=code,
        telegram_user_id=telegram_user_id,
        name=name,
    )


def remove(service, actor, member_id):
    return act(service, actor, RemoveMember, member_id=member_id, reason="Left the Landratsamt.")


# --- acting for a region ---------------------------------------------------------


def test_a_member_records_only_for_their_own_region(service, pair):
    steinfurt_measure = builders.measure(service, pair.steinfurt_staff, "05566", "KST-1")
    with refused(service, "auth.other_region", NotAllowed):
        builders.measure(service, pair.muenchen_staff, region="05566", code="KST-2")
    with refused(service, "auth.other_region"):
        act(
            service,
            pair.muenchen_staff,
            ChangeMeasureStatus,
            measure_id=steinfurt_measure,
            status="planned",
        )
    with refused(service, "auth.other_region"):
        act(service, pair.muenchen_staff, ReportProgress, measure_id=steinfurt_measure, percent=5)


def test_a_coordinator_too_acts_only_for_their_own_region(service, pair):
    coordinator = builders.member(service, "09184", "coordinator")
    builders.measure(service, coordinator, "09184", "LKM-1")
    with refused(service, "auth.other_region"):
        builders.measure(service, coordinator, "05566", "KST-1")


@pytest.mark.parametrize(
    ("region", "role"), [(None, "staff"), (None, "coordinator"), ("09184", "admin")]
)
def test_programme_office_members_and_admins_act_for_every_region(service, pair, region, role):
    actor = builders.member(service, region, role)
    for key in ("09184", "05566"):
        measure_id = builders.measure(service, actor, key, "PB-1")
        act(service, actor, ChangeMeasureStatus, measure_id=measure_id, status="planned")
        assert get(service, measure_id).status == "planned"


@pytest.mark.parametrize("region", ["09184", None], ids=["region-auditor", "office-auditor"])
def test_auditors_are_read_only(service, pair, region):
    auditor = builders.member(service, region, "auditor")
    measure_id = builders.measure(service, pair.muenchen_staff)
    with refused(service, "auth.read_only") as caught:
        builders.measure(service, auditor, "09184", "LKM-99")
    assert caught.value.params == {"role": "auditor"}
    with refused(service, "auth.read_only"):
        act(service, auditor, ReportProgress, measure_id=measure_id, percent=50)
    with refused(service, "auth.read_only"):
        builders.goal(service, auditor)
    with refused(service, "auth.read_only"):
        builders.exchange(service, pair, actor=auditor)
    with refused(service, "auth.read_only"):
        builders.advice(service, pair, actor=auditor, from_region="05566")


def test_a_removed_member_can_no_longer_act(service, pair):
    admin = builders.member(service, None, "admin")
    remove(service, admin, pair.muenchen_staff)
    with refused(service, "member.removed", NotAllowed):
        builders.measure(service, pair.muenchen_staff)
    assert get(service, pair.muenchen_staff).removed


def test_a_removed_members_telegram_account_no_longer_acts_for_them(service, pair):
    code = invite(service, SYSTEM, "09184", "staff").secret
    member_id = join(service, code, telegram_user_id=777001).aggregate_id
    assert service.member_for_telegram(777001) == member_id
    remove(service, SYSTEM, member_id)
    assert service.member_for_telegram(777001) is None


def test_someone_who_is_no_member_cannot_act(service, pair):
    with refused(service, "auth.unknown_member", NotAllowed):
        builders.measure(service, uuid4())
    with refused(service, "auth.unknown_member"):
        builders.measure(service, pair.twinning_id)  # an id, but not of a member


def test_an_invited_member_acts_only_after_joining(service, pair):
    invited = invite(service, SYSTEM, "09184", "staff").aggregate_id
    with refused(service, "member.not_joined"):
        builders.measure(service, invited)


# --- invites ---------------------------------------------------------------------


def test_an_invite_lets_a_person_join_with_their_telegram_account(service, pair):
    outcome = invite(service, SYSTEM, "09184", "coordinator", valid_days=3)
    assert outcome.details["role"] == "coordinator"
    member_id = join(service, outcome.secret, telegram_user_id=555, name="Eva Maier").aggregate_id
    assert member_id == outcome.aggregate_id
    member = get(service, member_id)
    assert (member.name, member.telegram_user_id, member.role) == (
        "Eva Maier",
        555,
        Role.COORDINATOR,
    )
    assert member.region_id == pair.muenchen_id
    assert outcome.secret not in repr(vars(member))  # only the hash is kept


def test_an_expired_invite_cannot_be_used(service, clock, pair):
    code = invite(service, SYSTEM, "09184", "staff", valid_days=3).secret
    clock.advance(timedelta(days=3))
    with refused(service, "invite.expired", RuleViolated):
        join(service, code)


def test_an_invite_can_be_used_until_just_before_it_expires(service, clock, pair):
    code = invite(service, SYSTEM, "09184", "staff", valid_days=3).secret
    clock.advance(timedelta(days=3) - timedelta(seconds=1))
    assert get(service, join(service, code).aggregate_id).has_joined


def test_an_invite_is_used_only_once(service, pair):
    code = invite(service, SYSTEM, "09184", "staff").secret
    join(service, code, telegram_user_id=601)
    with refused(service, "invite.used"):
        join(service, code, telegram_user_id=602, name="Someone Else")
    with refused(service, "invite.used"):
        join(service, code, telegram_user_id=601)


def test_an_unknown_invite_code_is_refused(service, pair):
    with refused(service, "invite.invalid", NotAllowed):
        join(service, "x" * 32)


def test_the_invite_of_someone_removed_before_joining_is_void(service, pair):
    outcome = invite(service, SYSTEM, "09184", "staff")
    remove(service, SYSTEM, outcome.aggregate_id)
    with refused(service, "invite.invalid"):
        join(service, outcome.secret)


def test_one_telegram_account_acts_for_one_active_member_only(service, pair):
    first = join(service, invite(service, SYSTEM, "09184", "staff").secret, 9001).aggregate_id
    second_code = invite(service, SYSTEM, "05566", "staff").secret
    with refused(service, "invite.account_in_use"):
        join(service, second_code, 9001)
    remove(service, SYSTEM, first)
    second = join(service, second_code, 9001).aggregate_id
    assert service.member_for_telegram(9001) == second


# --- managing members ------------------------------------------------------------


def test_a_coordinator_invites_for_their_own_region_only(service, pair):
    coordinator = builders.member(service, "09184", "coordinator")
    assert invite(service, coordinator, "lk-muenchen", "staff").secret
    assert invite(service, coordinator, "09184", "coordinator").secret
    with refused(service, "auth.other_region"):
        invite(service, coordinator, "05566", "staff")
    with refused(service, "auth.other_region"):
        invite(service, coordinator, None, "staff")


@pytest.mark.parametrize("role", ["admin", "auditor"])
@pytest.mark.parametrize(
    "region", ["09184", None], ids=["region-coordinator", "office-coordinator"]
)
def test_a_coordinator_never_hands_out_the_admin_or_auditor_role(service, pair, region, role):
    coordinator = builders.member(service, region, "coordinator")
    with refused(service, "auth.role_reserved_to_admins") as caught:
        invite(service, coordinator, "09184", role)
    assert caught.value.params == {"role": role}
    with refused(service, "auth.role_reserved_to_admins"):
        act(service, coordinator, ChangeRole, member_id=pair.muenchen_staff, role=role)
    assert get(service, pair.muenchen_staff).role == Role.STAFF


def test_an_office_coordinator_invites_for_every_region(service, pair):
    office = builders.member(service, None, "coordinator")
    for region in ("09184", "05566", None):
        assert invite(service, office, region, "staff").secret


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_staff_and_auditors_invite_nobody(service, pair, role):
    member = builders.member(service, "09184", role)
    with refused(service, "auth.member_management"):
        invite(service, member, "09184", "staff")


def test_admins_hand_out_every_role(service, pair):
    admin = builders.member(service, None, "admin")
    for role in Role:
        assert invite(service, admin, "05566", str(role)).details["role"] == role


def test_a_coordinator_manages_the_members_of_their_own_region_only(service, pair):
    coordinator = builders.member(service, "09184", "coordinator")
    act(service, coordinator, ChangeRole, member_id=pair.muenchen_staff, role="coordinator")
    assert get(service, pair.muenchen_staff).role == Role.COORDINATOR
    with refused(service, "auth.other_region"):
        act(service, coordinator, ChangeRole, member_id=pair.steinfurt_staff, role="coordinator")
    with refused(service, "auth.other_region"):
        remove(service, coordinator, pair.steinfurt_staff)
    remove(service, coordinator, pair.muenchen_staff)
    assert get(service, pair.muenchen_staff).removed


def test_a_coordinator_cannot_remove_an_admin(service, pair):
    coordinator = builders.member(service, "09184", "coordinator")
    admin = builders.member(service, "09184", "admin")
    with refused(service, "auth.role_reserved_to_admins"):
        remove(service, coordinator, admin)


def test_a_member_is_removed_once_and_gets_no_new_role_afterwards(service, pair):
    remove(service, SYSTEM, pair.muenchen_staff)
    with refused(service, "member.removed"):
        remove(service, SYSTEM, pair.muenchen_staff)
    with refused(service, "member.removed"):
        act(service, SYSTEM, ChangeRole, member_id=pair.muenchen_staff, role="coordinator")


def test_members_choose_only_their_own_language(service, pair):
    act(service, pair.muenchen_staff, ChooseLanguage, member_id=pair.muenchen_staff, language="en")
    assert get(service, pair.muenchen_staff).language == Language.EN
    with refused(service, "auth.own_settings_only"):
        act(
            service,
            pair.muenchen_staff,
            ChooseLanguage,
            member_id=pair.steinfurt_staff,
            language="en",
        )


def test_only_the_system_enrols_admins(service, pair):
    with refused(service, "auth.system_only"):
        act(service, pair.muenchen_staff, EnrolAdmin, telegram_user_id=31337, name="Mallory")
    admin = act(service, "system:bootstrap", EnrolAdmin, telegram_user_id=31337, name="Root")
    assert get(service, admin.aggregate_id).role == Role.ADMIN
    assert service.member_for_telegram(31337) == admin.aggregate_id


def test_someone_without_the_right_to_manage_a_member_learns_nothing_from_a_stale_version(
    service, pair
):
    act(service, pair.muenchen_staff, ChooseLanguage, member_id=pair.muenchen_staff, language="en")
    steinfurt_coordinator = builders.member(service, "05566", "coordinator")
    # Version 1 is stale (the member has joined and chosen a language since): still, a
    # coordinator of another region is refused for the region, not shown the changes.
    with refused(service, "auth.other_region"):
        act(
            service,
            steinfurt_coordinator,
            ChangeRole,
            member_id=pair.muenchen_staff,
            role="coordinator",
            expected_version=1,
        )
    with refused(service, "auth.other_region"):
        act(
            service,
            steinfurt_coordinator,
            RemoveMember,
            member_id=pair.muenchen_staff,
            reason="Not mine to remove.",
            expected_version=1,
        )
