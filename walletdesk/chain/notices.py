"""What an alert says, in the reader's active language: what happened, what to do now, the
exact revoke call for an approval, and the help article. Never asks for a recovery phrase or a
key; says so instead. Used by the alert ticket, the customer's mail and the activity page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from walletdesk.chain import rules

ARTICLES = {
    rules.UNLIMITED_APPROVAL: "revoke-token-approvals",
    rules.SCAM_RECIPIENT: "unauthorised-transaction",
    rules.ADDRESS_POISONING: "unauthorised-transaction",
    rules.LARGE_OUTFLOW: "unauthorised-transaction",
    rules.RAPID_OUTFLOWS: "unauthorised-transaction",
}


def _shown(params: dict[str, Any]) -> dict[str, str]:
    """Params as shown: addresses in their EIP-55 form (stored lower case)."""
    return {
        k: rules.checksum(str(v)) if rules.is_address(str(v)) else str(v) for k, v in (params or {}).items()
    }


def reason(code: str, params: dict[str, Any]) -> str:
    """One sentence: why the rule flagged this transaction."""
    p = _shown(params)
    if code == rules.SCAM_RECIPIENT:
        return _("Funds or an approval went to %(recipient)s, an address on a scam list.") % p
    if code == rules.UNLIMITED_APPROVAL:
        if p.get("call") == "setApprovalForAll":
            return (
                _("%(spender)s was allowed to move every NFT of %(token)s, and it is not a spender we know.")
                % p
            )
        return (
            _(
                "%(spender)s was allowed to spend an unlimited amount of %(token)s, and it is not a spender we know."
            )
            % p
        )
    if code == rules.ADDRESS_POISONING:
        return (
            _(
                "%(sender)s sent you a worthless transfer. It copies the start and end of %(lookalike_of)s, "
                "an address you really paid, so that you copy the fake one from your history next time."
            )
            % p
        )
    if code == rules.LARGE_OUTFLOW:
        return _("An outflow more than %(factor)s times the largest of this address's recent outflows.") % p
    if code == rules.RAPID_OUTFLOWS:
        return _("%(count)s outflows within %(minutes)s minutes: funds may be being swept out.") % p
    return code


def title(code: str) -> str:
    return {
        rules.SCAM_RECIPIENT: _("Transfer to a scam address"),
        rules.UNLIMITED_APPROVAL: _("Unlimited approval to an unknown spender"),
        rules.ADDRESS_POISONING: _("Address poisoning attempt"),
        rules.LARGE_OUTFLOW: _("Unusually large outflow"),
        rules.RAPID_OUTFLOWS: _("Many outflows within minutes"),
    }.get(code, code)


def revoke_call(code: str, params: dict[str, Any]) -> str:
    """The exact call that takes an approval back, for the wallet or a revoke tool."""
    if code != rules.UNLIMITED_APPROVAL:
        return ""
    params = _shown(params)
    if params.get("call") == "setApprovalForAll":
        return f"setApprovalForAll({params.get('spender')}, false)"
    return f"approve({params.get('spender')}, 0)"


def steps(code: str, params: dict[str, Any]) -> list[str]:
    """What to do now, in order."""
    call = revoke_call(code, params)
    params = _shown(params)
    if code == rules.UNLIMITED_APPROVAL:
        first = [
            _(
                "Revoke the approval now: call %(call)s on the token contract %(token)s (in your wallet or a revoke tool)."
            )
            % {"call": call, "token": params.get("token", "")},
            _("If you did not make this approval, move the remaining funds to a new wallet."),
        ]
    elif code == rules.ADDRESS_POISONING:
        first = [
            _(
                "Do not copy addresses from your transaction history. Check every character of an address, or use your address book."
            ),
            _("Do not send anything to %(sender)s.") % {"sender": params.get("sender", "")},
        ]
    else:
        first = [
            _(
                "If you did not make this transaction, move the remaining funds to a new wallet now, from a device you trust."
            ),
            _("Revoke the token approvals you do not need."),
        ]
    return [
        *first,
        _("We will never ask for your recovery phrase or private key. Anyone who asks is a scammer."),
    ]


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def ticket_notice(alert: Any, *, site_url: str, explorer: str) -> Notice:
    code, params = alert.rule, alert.params or {}
    lines = [
        _("On-chain alert for your address %(address)s:") % {"address": rules.checksum(alert.address)},
        "",
        title(code) + ": " + reason(code, params),
        _("Transaction: %(tx)s") % {"tx": explorer or alert.tx_hash},
        "",
        _("What to do now:"),
        *(f"{n}. {s}" for n, s in enumerate(steps(code, params), 1)),
        "",
        _("Help: %(url)s") % {"url": f"{site_url}/help/a/{ARTICLES.get(code, 'unauthorised-transaction')}/"},
    ]
    return Notice(subject=title(code), body="\n".join(lines))
