"""What every handler needs from its Lambda environment, in one place.

- `clients`: boto3 clients with timeouts and the standard retry mode, built on first use;
- `observability`: Powertools Logger and Metrics named by POWERTOOLS_SERVICE_NAME, and tracing;
- `settings`: the environment each function needs, validated when its dependencies are built;
- `lazy`: a handler's dependencies, built on the first invocation and replaceable by tests.

Domain code (functions/core, functions/pipeline) never reads the environment.
"""
