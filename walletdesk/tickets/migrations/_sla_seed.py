"""Starting SLA policies and bilingual macros every install gets (seeded by migration 0008).

Minutes are business minutes on the team's calendar (Mon-Fri 09:00-18:00 Asia/Shanghai with
CN public holidays unless a team says otherwise), except the 24/7 security policies.
"""

from __future__ import annotations

H = 60
DAY = 9 * H  # one business day

# (priority, first reply, next reply, resolution)
GENERAL = [
    ("urgent", 1 * H, 2 * H, 1 * DAY),
    ("high", 4 * H, 4 * H, 3 * DAY),
    ("normal", 1 * DAY, 1 * DAY, 5 * DAY),
    ("low", 2 * DAY, 2 * DAY, 10 * DAY),
]
# Stolen accounts and unauthorised transactions run on calendar time, day and night.
SECURITY_CATEGORIES = ("account_stolen", "unauthorised_tx")
SECURITY = [
    ("urgent", 30, 1 * H, 24 * H),
    ("high", 1 * H, 2 * H, 48 * H),
]

MACROS = [
    {
        "name": "Ask for transaction hash / 请提供交易哈希",
        "body_en": (
            "Hello {customer_name},\n\nThank you for contacting us about {reference}. To look into this "
            "transaction we need its transaction hash (TxID) and the network it was sent on. You can find "
            "it in the wallet under the asset, then the transaction: {article:find-transaction-hash}\n\n"
            "We will never ask for your recovery phrase or private key.\n\n{agent_name}"
        ),
        "body_zh": (
            "{customer_name}，您好：\n\n感谢您就 {reference} 联系我们。为了核查这笔交易，请提供交易哈希（TxID）"
            "以及所在网络。查找方法见：{article:find-transaction-hash}\n\n"
            "我们绝不会索要您的助记词或私钥。\n\n{agent_name}"
        ),
        "set_status": "pending",
    },
    {
        "name": "Account unlocked / 账户已解锁",
        "body_en": (
            "Hello {customer_name},\n\nYour account is unlocked. If you forgot your password you can reset it "
            "here: {article:forgot-password}\n\nIf this was not you, reply at once.\n\n{agent_name}"
        ),
        "body_zh": (
            "{customer_name}，您好：\n\n您的账户已解锁。如果忘记了密码，可以在这里重置：{article:forgot-password}\n\n"
            "如果不是您本人操作，请立即回复我们。\n\n{agent_name}"
        ),
        "set_status": "solved",
    },
    {
        "name": "Scam warning / 防骗提醒",
        "body_en": (
            "Hello {customer_name},\n\nSupport is free and we never ask you to pay, to send crypto to "
            '"verify" your wallet, or for your recovery phrase. Please check official contacts here: '
            "{article:contact-official-support}\n\n{agent_name}"
        ),
        "body_zh": (
            "{customer_name}，您好：\n\n客服服务是免费的，我们绝不会要求您付费、转币“验证”钱包，或索要助记词。"
            "请在这里核对官方联系方式：{article:contact-official-support}\n\n{agent_name}"
        ),
        "set_status": "",
    },
    {
        "name": "Escalate to security desk / 转交安全团队",
        "body_en": (
            "Hello {customer_name},\n\nWe have passed {reference} to our security team, who handle stolen "
            "accounts and unauthorised transactions around the clock. They will contact you shortly.\n\n{agent_name}"
        ),
        "body_zh": (
            "{customer_name}，您好：\n\n我们已将 {reference} 转交安全团队处理，他们全天候处理账户被盗和未授权交易，"
            "会尽快与您联系。\n\n{agent_name}"
        ),
        "set_status": "open",
        "set_priority": "urgent",
        "set_team": "security",
    },
]
