from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "walletdesk.tickets"
    label = "tickets"

    def ready(self) -> None:
        from walletdesk.core import warmup

        warmup.register(_draft_samples)


def _draft_samples() -> None:
    """Draft (check, screen, triage, segment, route, time) one ticket per language and keep
    nothing: loads the rule sets, the shield's patterns and jieba before the first customer."""
    from walletdesk.tickets import actions

    for language, subject, body in (
        ("en", "Deposit not credited", "I sent 0.25 ETH to an exchange two hours ago, tx 0xabc."),
        ("zh-hans", "账户被锁", "密码输错太多次，钱包被锁了，怎么解锁？"),
    ):
        actions.draft(
            actions.NewTicket(subject=subject, body=body, email="warm-up@example.com", language=language)
        )
