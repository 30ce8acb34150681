# closeflow image: Airflow 3 + closeflow + dbt + tesseract (eng chi_sim deu fra nld spa), uv.lock.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-osd \
      tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-nld tesseract-ocr-spa \
      fonts-dejavu-core fonts-wqy-zenhei libpq5 curl \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv

WORKDIR /opt/closeflow
COPY pyproject.toml uv.lock README.md ./
COPY plugins ./plugins
COPY ocr ./ocr
RUN UV_PYTHON_DOWNLOADS=never uv sync --frozen --no-dev
COPY dags ./dags
COPY dbt_project ./dbt_project

ENV PATH=/opt/closeflow/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/closeflow/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    CLOSEFLOW_HOME=/opt/closeflow/var \
    OMP_THREAD_LIMIT=1
