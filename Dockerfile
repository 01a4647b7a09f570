# The project image for the scale-out stack (docker-compose.yml): the official Airflow image
# plus the minerwatch package, its dbt project, expectations and DAGs. The offline demo
# (src/minerwatch/demo), the tests and the benchmark stay out (.dockerignore).
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/minerwatch
COPY --chown=airflow:root pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:root src ./src
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root plugins ./plugins

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/minerwatch/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/minerwatch/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
