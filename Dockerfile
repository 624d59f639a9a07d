# walletdesk's one image: web processes, task workers and one-off commands all run from it
# (compose.yaml). Not built or run on the project's machines, which have no container engine.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WALLETDESK_DATA_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY walletdesk ./walletdesk
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /app walletdesk \
    && mkdir -p /app/var \
    && chown walletdesk /app/var

USER walletdesk
# Static files are collected into the image (hashed names, compressed): production settings need
# a key only to load, so throw-away ones are made for this step and never kept.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DOCUMENT_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    WALLETDESK_ENV=production \
    walletdesk manage collectstatic --noinput --verbosity 0

EXPOSE 8000
# One container, the embedded layout: migrate, then web processes and a worker until stopped.
# compose.yaml runs the production layout from the same image with its own commands.
CMD ["walletdesk", "up", "--host", "0.0.0.0", "--port", "8000"]
