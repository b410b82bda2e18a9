# The SCIM provider of the sandbox in a container: docker run -p 8000:8000 IMAGE
# Or check an endpoint: docker run --rm --network host IMAGE sandbox check URL --token T
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY tui ./tui
COPY fixtures/scenarios ./fixtures/scenarios
RUN pip install --no-cache-dir .
ENV SANDBOX_DB_PATH=/data/sandbox.db
VOLUME ["/data"]
EXPOSE 8000
CMD ["sandbox", "serve", "--host", "0.0.0.0", "--port", "8000"]
