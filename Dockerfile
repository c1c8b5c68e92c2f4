# Footnote: the Telegram bot that quotes essays verbatim.
#
#   docker build -t footnote .
#   docker run --env-file /etc/footnote/footnote.env footnote            # long polling
#   docker run --env-file ... -p 8443:8443 footnote footnote run --webhook https://bot.example.org/tg/hook
#
# The image holds the code, the bundled embedding model (a pip package), the corpus and the
# index built from it, so a container starts answering without downloading anything.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    FOOTNOTE_CORPUS=/app/corpus \
    FOOTNOTE_INDEX=/app/index

WORKDIR /app

# CPU-only torch first (as scripts/setup-venv.sh does): a plain "torch" dependency would pull
# the multi-GB CUDA build.  Override TORCH_INDEX_URL to use a mirror.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# Dependencies, then the code (pyproject changes rarely, the code often).
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

# A non-root user (footnote, uid 10001) owns only what it must write: the index.
RUN groupadd --system --gid 10001 footnote \
    && useradd --system --uid 10001 --gid footnote --home-dir /app --shell /usr/sbin/nologin footnote \
    && mkdir /app/index \
    && chown footnote:footnote /app/index
COPY corpus ./corpus
USER 10001:10001

# Build the index into the image: start-up then only loads it (and the model).
RUN footnote index --quiet

# Polling by default; webhook mode serves GET /healthz on FOOTNOTE_WEBHOOK_PORT (8443).
EXPOSE 8443
STOPSIGNAL SIGTERM
CMD ["footnote", "run"]
