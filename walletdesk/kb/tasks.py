"""Background work for the knowledge base. Tasks take ids, never model instances."""

from __future__ import annotations

from django.tasks import task

from walletdesk.kb import actions


@task()
def embed_article(article_id: int) -> str:
    """Embed an article's passages after a change (see actions.embed_article): off the request
    path, since the model takes a second or more per article on a small machine."""
    return actions.embed_article(article_id)
