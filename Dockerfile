# The Berth application image (web, worker, beat and gateway all run it). Front-end packages are
# installed pinned from the npm registry at build time and served by the app (no CDN).
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=frontend /src/node_modules ./node_modules
RUN python scripts/vendor_static.py && rm -rf node_modules \
 && DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input -v0
ENTRYPOINT ["tini", "--"]
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", \
     "--http", "httptools", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--proxy-headers"]
