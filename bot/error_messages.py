"""The user's words for every domain error code.

Templates are English msgids, marked with ``N_`` for extraction and translated at
render time, so the error is told in the language of whoever receives it.
"""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from bot.labels import value_label
from bot.rendering import esc
from domain.errors import Conflict, DomainError, InvalidCommand

MESSAGES: dict[str, str] = {
    "advice.already_acknowledged": N_("This advice was already acknowledged."),
    "advice.already_decided": N_("This advice was already decided ({status})."),
    "advice.measure_of_other_region": N_("That measure belongs to another region."),
    "advice.not_found": N_("There is no such advice."),
    "advice.not_teaching_side": N_("Advice on this topic comes from the region that teaches it."),
    "advice.request_not_for_you": N_("That question was not asked of your region."),
    "advice.teaching_side_cannot_ask": N_(
        "Your region teaches this topic in the twinning; advice requests come from the partner."
    ),
    "advice_request.not_found": N_("There is no such question."),
    "auth.erasure": N_("Only admins, or the members themselves, erase a member's personal data."),
    "auth.member_management": N_("Only coordinators and admins manage members."),
    "auth.not_a_partner": N_("Your region is not a partner of this twinning."),
    "auth.other_region": N_("You can act only for your own region."),
    "auth.own_settings_only": N_("You can change only your own settings."),
    "auth.programme_management": N_(
        "Only admins and the programme office's coordinators manage programmes and twinnings."
    ),
    "auth.read_only": N_("Your role ({role}) can read, but not record."),
    "auth.role_reserved_to_admins": N_("Only admins hand out the role {role}."),
    "auth.system_only": N_("Only the system does this."),
    "auth.unknown_member": N_("You are not a member of RegioTwin."),
    "batch.refused": N_("The import was refused as a whole; nothing was recorded."),
    "checkpoint.exists": N_("The chain head at this position is recorded already."),
    "command.id_reused": N_("This request was already used for something else."),
    "command.invalid": N_("That input is not valid: {problems}"),
    "conflict.stale_version": N_(
        "Someone changed this in the meantime ({changes}). Please look again and retry."
    ),
    "exchange.not_found": N_("There is no such exchange."),
    "follow_up.already_done": N_("Follow-up {number} is already done."),
    "follow_up.due_before_exchange": N_(
        "A follow-up cannot be due ({due_on}) before its exchange ({held_on})."
    ),
    "follow_up.not_found": N_("There is no follow-up {number}."),
    "follow_up.owner_not_partner": N_("The follow-up's owner must belong to the twinning."),
    "goal.closed": N_("This goal is already {status}."),
    "goal.not_found": N_("There is no such goal."),
    "goal.revision_unchanged": N_("A revision must change the target value or year."),
    "invite.account_in_use": N_("This Telegram account already belongs to an active member."),
    "invite.expired": N_("This invite has expired. Please ask for a new one."),
    "invite.invalid": N_("This invite code is not valid."),
    "invite.used": N_("This invite was already used."),
    "item.not_found": N_("Not found."),
    "measure.closed": N_("This measure is already {status}."),
    "measure.code_taken": N_("Your region already has a measure {code}."),
    "measure.illegal_transition": N_("A measure cannot go from {from_status} to {to_status}."),
    "measure.not_found": N_("There is no such measure."),
    "measure.status_unchanged": N_("The measure is already {status}."),
    "measure.unchanged": N_("Nothing changed."),
    "member.erased": N_("This member's personal data was erased already."),
    "member.not_found": N_("There is no such member."),
    "member.not_joined": N_("This member has not joined yet."),
    "member.removed": N_("This member was removed."),
    "member.role_unchanged": N_("The member already has the role {role}."),
    "notifications.already_muted": N_("This is muted already."),
    "notifications.digest_time_unchanged": N_("Your digests come at {at} already."),
    "notifications.digest_unchanged": N_("Your digest is set that way already."),
    "notifications.holiday_in_past": N_("The last day of a holiday cannot lie in the past."),
    "notifications.holiday_unchanged": N_("Your holiday ends on that day already."),
    "notifications.name_the_kind": N_("Please name the kind of notification."),
    "notifications.no_holiday": N_("You are not on holiday."),
    "notifications.not_muted": N_("This is not muted."),
    "notifications.nothing_muted": N_("Nothing is muted: you receive every notification."),
    "programme.ends_before_start": N_("A programme must end after it starts."),
    "programme.exists": N_("The programme {code} exists already."),
    "programme.not_found": N_("There is no such programme."),
    "region.key_not_in_land": N_("The key {key} does not lie in {land}."),
    "region.key_taken": N_("A region with the key {key} exists already."),
    "region.not_found": N_("There is no region {ref}."),
    "region.slug_taken": N_("The short name {slug} is taken."),
    "store.busy": N_("Not saved: the store is busy. Please try again."),
    "store.unavailable": N_(
        "Not saved: the data store is not available right now. Please try again in a moment."
    ),
    "twinning.closed": N_("This twinning is {status}."),
    "twinning.ends_before_start": N_("A twinning must end after it starts."),
    "twinning.exists": N_("These two regions are twinned already."),
    "twinning.name_the_region": N_("Please name the region you act for."),
    "twinning.not_formed": N_("This twinning has started already."),
    "twinning.not_found": N_("There is no such twinning."),
    "twinning.not_running": N_("This twinning is not running."),
    "twinning.region_not_partner": N_("That region is not a partner of this twinning."),
    "twinning.same_region": N_("A twinning needs two different regions."),
    "twinning.topic_exists": N_("The twinning has this topic already."),
    "twinning.topic_not_in_twinning": N_("This topic is not part of the twinning."),
}
FALLBACK = N_("That did not work ({code}).")


PARAM_LIMIT = 80
"""Characters of a value shown in an error: what users typed may be 4096 characters long."""


class _Params(dict[str, Any]):
    """A value the error does not carry (a forged button's id) shows as –; the error path
    itself must never fail."""

    def __missing__(self, key: str) -> str:
        return "–"


def _shown(value: object) -> str:
    text = " ".join(str(value).split())
    return esc(text if len(text) <= PARAM_LIMIT else text[: PARAM_LIMIT - 1] + "…")


def render_error(error: DomainError) -> str:
    """The localized, HTML-escaped sentence for a domain error."""
    template = MESSAGES.get(error.code)
    if template is None:
        return _(FALLBACK).format(code=esc(error.code))
    params = _Params(
        {key: _shown(value_label(error.code, key, value)) for key, value in error.params.items()}
    )
    if isinstance(error, InvalidCommand):
        params["problems"] = esc(", ".join(field for field, _rule in error.problems))
    if isinstance(error, Conflict):
        params["changes"] = esc(", ".join(change["event"] for change in error.changes))
    return _(template).format_map(params)
