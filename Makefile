# Runnel's everyday targets. `make compat` runs the external-client
# compatibility suite (kcat, kafka-python, confluent-kafka-python and
# franz-go's kgo tests) against a real `runnel server`; see tests/compat/.
GO ?= go

.PHONY: build test compat

build:
	$(GO) build ./...
	$(GO) build -o runnel ./cmd/runnel

test:
	$(GO) test ./...

compat:
	bash tests/compat/run.sh
