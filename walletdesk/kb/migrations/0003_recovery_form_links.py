"""Point the stolen-account articles at the account recovery form (issue #20).

The starter migration (0002) loads the content files once and `kb_load_starter` keeps existing
rows, so a database made before the files changed still tells a victim to "open a request with
the category Account stolen" (the generic form, which takes no identity document). This changes
the shipped sentences in place: a paragraph an agent has rewritten is left as it is, and the
stolen-account article gets the link appended instead, so every database ends up with it.

The texts are frozen here, not read from walletdesk/kb/content, because those files will change
again and a migration must do the same thing on every database.
"""

import uuid

from django.db import migrations

FORM = "/account-recovery/"

# (article slug, language): [(shipped text, new text), ...]
EDITS = {
    ("account-stolen-recovery", "en"): [
        (
            'From the in-app Help screen or the official website, open a request with the category "Account stolen". Include:',
            "**[Open the account recovery form](/account-recovery/)**; you do not need to sign in. It opens an urgent request with our security desk. Tell us:",
        ),
        (
            "We freeze the account while we investigate, so nothing can be withdrawn. We then ask you to verify your identity, usually with an identity document and a selfie. See \"Identity documents for account recovery\" for what to send and how we protect it.",
            "The same form takes a photo of your identity document (front and back) and a selfie holding it, so we can verify that you are the owner. See \"Identity documents for account recovery\" for what to send and how we protect it.\n\nWe freeze the account while we investigate, so nothing can be withdrawn.",
        ),
    ],
    ("account-stolen-recovery", "zh-hans"): [
        (
            '在 App 帮助页面或官网提交工单，类型选"账户被盗"，并提供：',
            "**[打开账户找回表单](/account-recovery/)**（无需登录）。提交后会给安全团队开一张紧急工单。请告诉我们：",
        ),
        (
            '调查期间我们会冻结账户，任何资产都无法被提走。之后会请你验证身份，一般需要身份证件和一张手持自拍。具体需要什么、我们如何保护这些资料，请看"账户找回所需的身份证件"。',
            '在同一个表单里上传身份证件的照片（正面和反面）和一张手持证件的自拍，方便我们核实你是账户的主人。具体需要什么、我们如何保护这些资料，请看"账户找回所需的身份证件"。\n\n调查期间我们会冻结账户，任何资产都无法被提走。',
        ),
    ],
    ("identity-documents", "en"): [
        (
            "- We may also ask for a selfie holding the document and a note with today's date and your reference number.",
            "- Take a selfie holding the document, with your face and the document's photo both clearly visible.",
        ),
        (
            "Upload the files only through the secure upload on your request page in the app or on the official website.",
            "Upload the files only through the secure upload in the [account recovery form](/account-recovery/) on the official website.",
        ),
    ],
    ("identity-documents", "zh-hans"): [
        (
            "- 我们可能还会请你拍一张手持证件的自拍，旁边放一张写有当天日期和工单编号的纸条。",
            "- 拍一张手持证件的自拍，你的脸和证件上的照片都要清晰可见。",
        ),
        (
            "请只通过 App 或官网工单页面里的安全上传入口提交文件。",
            "请只通过官网[账户找回表单](/account-recovery/)里的安全上传入口提交文件。",
        ),
    ],
}

# Appended to a stolen-account article whose paragraph an agent rewrote.
FALLBACK = {
    "en": "**Report a stolen account:** use the [account recovery form](/account-recovery/). You do not need to sign in.",
    "zh-hans": "**报告账户被盗：** 请使用[账户找回表单](/account-recovery/)，无需登录。",
}


def _apply(apps, forward):
    from walletdesk.kb.render import render_markdown

    translation_model = apps.get_model("kb", "ArticleTranslation")
    changed = False
    for (slug, language), edits in EDITS.items():
        text = translation_model.objects.filter(article__slug=slug, language=language).first()
        if text is None:
            continue
        body = text.body_markdown
        for old, new in edits:
            before, after = (old, new) if forward else (new, old)
            body = body.replace(before, after)
        if forward and slug == "account-stolen-recovery" and FORM not in body:
            body = body.rstrip() + "\n\n" + FALLBACK[language] + "\n"
        if body != text.body_markdown:
            text.body_markdown = body
            text.body_html = render_markdown(body)
            text.save(update_fields=["body_markdown", "body_html", "updated_at"])
            changed = True
    if changed:
        # Searchable text changed: every process rebuilds its index (kb.index).
        apps.get_model("kb", "IndexState").objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def forwards(apps, schema_editor):
    _apply(apps, forward=True)


def backwards(apps, schema_editor):
    _apply(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_starter_content")]

    operations = [migrations.RunPython(forwards, backwards)]
