import pytest

from walletdesk.shield import outbound_reply_risks, scam_signals

OFFICIAL = ["token.im", "imtoken.com"]


def codes(signals):
    return {signal.code for signal in signals}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("您的账户异常，请在24小时内支付解冻费0.5ETH，否则永久冻结", {"fee_request", "urgency"}),
        ("需要先交保证金才能提现", {"fee_request"}),
        ("请下载向日葵远程协助，我们帮您操作", {"remote_access"}),
        ("请安装ToDesk并共享屏幕", {"remote_access"}),
        ("请提供您的助记词以便验证钱包", {"secret_request"}),
        ("为了同步资产，请把私钥发给我们", {"secret_request"}),
        ("访问 imtoken-support.com 领取补偿", {"lookalike_link"}),
        ("Pay the unlock fee of 50 USDT to release your funds", {"fee_request"}),
        ("Install AnyDesk or TeamViewer QuickSupport so I can fix it", {"remote_access"}),
        ("Your wallet will be frozen within 24 hours, act immediately", {"urgency"}),
        ("Please send your seed phrase to verify ownership", {"secret_request"}),
        ("Validate your wallet at https://imt0ken.com/validate", {"lookalike_link"}),
        ("Claim your airdrop at http://airdrop-claim.xyz", {"unofficial_link"}),
    ],
)
def test_scam_signals(text, expected):
    found = scam_signals(text, OFFICIAL)
    assert expected <= codes(found), found
    assert all(signal.reason and signal.excerpt for signal in found)


@pytest.mark.parametrize(
    "text",
    [
        "转账三个小时还没到账，麻烦帮我查一下",
        "为什么这笔转账的矿工费这么高",
        "How do I add a custom token? See https://support.token.im/hc/articles/1",
        "Thanks, it works now!",
        "我的邮箱 alice@gmail.com",
    ],
)
def test_ordinary_messages_raise_nothing(text):
    assert scam_signals(text, OFFICIAL) == []


def test_outbound_reply_risks():
    risky = outbound_reply_risks(
        "Please transfer 10 USDT to this address to unlock: see http://unlock-wallet.xyz", OFFICIAL
    )
    assert codes(risky) == {"payment_request", "unofficial_link"}
    assert codes(outbound_reply_risks("请转账100U到以下地址完成验证", OFFICIAL)) == {"payment_request"}
    assert codes(outbound_reply_risks("Please tell me your recovery phrase", OFFICIAL)) == {"secret_request"}
    safe = "You can read more at https://token.im/faq. The network fee is paid to miners, not to us."
    assert outbound_reply_risks(safe, OFFICIAL) == []
