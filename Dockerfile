# One image for every econsult service; the command picks which (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The SFU (econsult janus) is Debian's package, as on a machine set up by scripts/setup;
# util-linux (essential in Debian, named for its setpriv) ties children to their parent.
RUN apt-get update && apt-get install -y --no-install-recommends janus util-linux \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install -e .

ENTRYPOINT ["econsult"]
CMD ["--help"]
