# The app image. `docker compose up` runs it with MongoDB and Redis (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /srv/storestream
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HOST=0.0.0.0 PORT=8000
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
COPY config ./config
EXPOSE 8000
CMD ["python", "-m", "app", "serve"]
