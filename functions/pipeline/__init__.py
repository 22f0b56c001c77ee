"""The delivery pipeline's domain logic: publish → fan out → attempt → retry, plus redelivery.

Plain Python over injected stores, queues and an HTTP sender; the Lambda handlers in
functions/{ingest,fanout,deliver} only parse events and build these objects.
"""
