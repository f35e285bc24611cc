# One image for web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONPATH=/app
WORKDIR /app
# WeasyPrint (PDF of co-branded collateral and quote documents) needs Pango, HarfBuzz and a font.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY prm prm
COPY partners partners
COPY deals deals
COPY quotes quotes
COPY cases cases
COPY renewals renewals
COPY mdf mdf
COPY analytics analytics
RUN pip install --quiet .
COPY manage.py ./
COPY templates templates
COPY static static
RUN DEBUG=false SECRET_KEY=build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput
RUN useradd --create-home prm && mkdir -p /app/var && chown prm /app/var
USER prm
EXPOSE 8000
CMD ["gunicorn", "prm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
