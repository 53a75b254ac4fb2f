# The controller image: `msctl run` as a non-root user on a read-only root filesystem.
#   docker build -t ghcr.io/llm-d/modelservice-controller:0.1.0 .
# Not built by the test suite: the development machines reach no container registry, so no
# base image can be pulled there (docs/installing.md says what was verified).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ms_engine ms_engine
COPY ms_controller ms_controller
COPY ms_plugins ms_plugins
COPY cli cli
COPY ms_devcluster ms_devcluster
COPY deploy/presets deploy/presets
RUN python -m venv /opt/modelservice \
    && /opt/modelservice/bin/pip install --no-cache-dir . \
    && /opt/modelservice/bin/python -m compileall -q /opt/modelservice

FROM python:3.12-slim
COPY --from=build /opt/modelservice /opt/modelservice
ENV PATH=/opt/modelservice/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["msctl"]
CMD ["run", "--leader-elect", "--log-format=json"]
