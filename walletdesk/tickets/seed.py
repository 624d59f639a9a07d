"""Starting data every install gets: the bilingual categories and the two default teams.

Plain data, so the data migration and the tests share one source.
"""

from __future__ import annotations

TEAMS = [
    {"slug": "general", "name": "General support", "restricted": False},
    # Stolen accounts and unauthorised transactions carry identity documents and funds at risk:
    # only the security desk sees them.
    {"slug": "security", "name": "Security desk", "restricted": True},
]

CATEGORIES = [
    {
        "slug": "login_locked",
        "name_en": "Can't log in / account locked",
        "name_zh": "无法登录 / 账户被锁定",
        "help_en": "Locked after wrong passwords, stuck at login, or an error when signing in.",
        "help_zh": "多次输错密码被锁定、登录卡住或登录时报错。",
        "required_facts": ["account"],
        "optional_facts": ["error_code", "device", "os", "app_version"],
        "default_priority": "normal",
        "team": "general",
    },
    {
        "slug": "forgot_password",
        "name_en": "Forgot password",
        "name_zh": "忘记密码",
        "help_en": "You can't remember your password or the reset email doesn't arrive.",
        "help_zh": "想不起密码，或收不到重置邮件。",
        "required_facts": ["account"],
        "optional_facts": ["device", "os", "app_version"],
        "default_priority": "normal",
        "team": "general",
    },
    {
        "slug": "unauthorised_tx",
        "name_en": "Abnormal or unauthorised transaction",
        "name_zh": "异常或未授权的交易",
        "help_en": "A transfer you did not make, or a transaction that looks wrong.",
        "help_zh": "出现不是您本人操作的转账，或交易状态异常。",
        "required_facts": ["wallet_address", "tx_hash"],
        "optional_facts": ["chain", "account", "device", "os", "app_version"],
        "default_priority": "urgent",
        "team": "security",
    },
    {
        "slug": "account_stolen",
        "name_en": "Account stolen",
        "name_zh": "账户被盗",
        "help_en": "Someone else got into your account or changed your settings.",
        "help_zh": "有人登录了您的账户或更改了您的设置。",
        "required_facts": ["account"],
        "optional_facts": ["wallet_address", "tx_hash", "chain", "device", "os"],
        "default_priority": "urgent",
        "team": "security",
    },
    {
        "slug": "fees",
        "name_en": "Fees and charges",
        "name_zh": "费用与手续费",
        "help_en": "Network (gas) fees, unexpected charges, or someone asking you to pay.",
        "help_zh": "网络手续费（矿工费/Gas）、意外扣费，或有人要求您付费。",
        "required_facts": [],
        "optional_facts": ["tx_hash", "chain", "wallet_address"],
        "default_priority": "normal",
        "team": "general",
    },
    {
        "slug": "scam_report",
        "name_en": "Report a scam or fake support",
        "name_zh": "举报诈骗或假客服",
        "help_en": "A fake support account, a paid 'unlock' link, or a phishing site.",
        "help_zh": "假冒客服账号、付费“解冻”链接或钓鱼网站。",
        "required_facts": [],
        "optional_facts": ["wallet_address", "tx_hash", "chain"],
        "default_priority": "high",
        "team": "general",
    },
    {
        "slug": "other",
        "name_en": "Something else",
        "name_zh": "其他问题",
        "help_en": "Anything else about the app or your wallet.",
        "help_zh": "关于应用或钱包的其他问题。",
        "required_facts": [],
        "optional_facts": ["account", "error_code", "device", "os", "app_version"],
        "default_priority": "normal",
        "team": "general",
    },
]
