# One image for the worker and the API (production topology: docker-compose.yml).
FROM python:3.11-slim-bookworm

# WeasyPrint renders the letters through Pango
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cli.py config.py worker.py ./
COPY domain ./domain
COPY db ./db
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY templates ./templates
# the web console: its stylesheet and vendored script, its Italian/English catalogues
COPY static ./static
COPY locale ./locale
RUN pip install --no-cache-dir -e '.[postgres]'

RUN useradd --system --home /app recupero && mkdir -p /data && chown recupero /data
USER recupero
ENV RECUPERO_DATA_DIR=/data
CMD ["recupero", "worker"]
