# The app image. `docker compose up` runs it with MongoDB and Redis (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /srv/storestream
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HOST=0.0.0.0 PORT=8000
COPY requirements.txt ./
# torch first and pinned to the CPU build (as the Makefile does): left to sentence-transformers'
# range, pip would pull a multi-GB CUDA build. Then the runtime lock (hashes; torch's own
# dependencies are in it). gTTS goes in without its command-line pin.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir --require-hashes -r requirements.txt \
 && pip install --no-cache-dir --no-deps gTTS==2.5.4 \
 && apt-get update -qq && apt-get install -y -qq --no-install-recommends espeak-ng && rm -rf /var/lib/apt/lists/*
COPY app ./app
COPY config ./config
EXPOSE 8000
CMD ["python", "-m", "app", "serve"]
