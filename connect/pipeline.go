package connect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/runnel/runnel/connect/connector"
)

// Stage names where a record can fail, as Kafka's error handling and the
// __connect.errors.stage header name them.
const (
	StageTaskPoll        = "TASK_POLL"
	StageTaskPut         = "TASK_PUT"
	StageTransformation  = "TRANSFORMATION"
	StageKeyConverter    = "KEY_CONVERTER"
	StageValueConverter  = "VALUE_CONVERTER"
	StageHeaderConverter = "HEADER_CONVERTER"
	StageKafkaProduce    = "KAFKA_PRODUCE"
	StageKafkaConsume    = "KAFKA_CONSUME"
)

// converters is a task's key and value converters.
type converters struct {
	key, value connector.Converter
}

// newConverters builds the key and value converters of a connector: its
// own key.converter/value.converter with their connector-level settings
// when set, else the worker's with the worker's settings.
func newConverters(reg *Registry, worker WorkerConfig, cc ConnectorConfig) (converters, error) {
	mk := func(which, connClass, workerClass string, isKey bool) (connector.Converter, error) {
		class, props := workerClass, Prefixed(worker.Props, which+".")
		if connClass != "" {
			class, props = connClass, Prefixed(cc.Props, which+".")
		}
		c, err := reg.NewConverter(class)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", which, err)
		}
		if err := c.Configure(props, isKey); err != nil {
			return nil, fmt.Errorf("%s %s: %w", which, class, err)
		}
		return c, nil
	}
	k, err := mk("key.converter", cc.KeyConverter, worker.KeyConverter, true)
	if err != nil {
		return converters{}, err
	}
	v, err := mk("value.converter", cc.ValueConverter, worker.ValueConverter, false)
	if err != nil {
		return converters{}, err
	}
	return converters{key: k, value: v}, nil
}

// stage is one transformation with its optional predicate.
type stage struct {
	alias  string
	class  string
	tf     connector.Transformation
	pred   connector.Predicate
	negate bool
}

// chain is a connector's transformations in order.
type chain struct {
	stages []stage
	preds  []connector.Predicate
}

// newChain configures the transforms and predicates of a connector
// (transforms.<alias>.type and the keys under transforms.<alias>.).
func newChain(reg *Registry, cc ConnectorConfig) (*chain, error) {
	c := &chain{}
	preds := make(map[string]connector.Predicate)
	for _, alias := range cc.Predicates {
		prefix := "predicates." + alias + "."
		p, err := reg.NewPredicate(cc.Props[prefix+"type"])
		if err != nil {
			return nil, fmt.Errorf("%stype: %w", prefix, err)
		}
		if err := p.Configure(Prefixed(cc.Props, prefix)); err != nil {
			return nil, fmt.Errorf("predicate %s: %w", alias, err)
		}
		preds[alias] = p
		c.preds = append(c.preds, p)
	}
	for _, alias := range cc.Transforms {
		prefix := "transforms." + alias + "."
		class := cc.Props[prefix+"type"]
		tf, err := reg.NewTransformation(class)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("%stype: %w", prefix, err)
		}
		props := Prefixed(cc.Props, prefix)
		if err := tf.Configure(props); err != nil {
			c.close()
			return nil, fmt.Errorf("transformation %s: %w", alias, err)
		}
		s := stage{alias: alias, class: class, tf: tf}
		if name, ok := props["predicate"]; ok && name != "" {
			p, ok := preds[name]
			if !ok {
				c.close()
				return nil, badRequestf("Invalid value %s for configuration %spredicate: the predicate is not in predicates", name, prefix)
			}
			s.pred = p
			s.negate = props["negate"] == "true"
		}
		c.stages = append(c.stages, s)
	}
	return c, nil
}

// apply runs r through the chain under the tolerance operator. keep is
// false when a transformation dropped the record or, with
// errors.tolerance=all, failed on it.
func (c *chain) apply(ctx context.Context, op *tolerance, r connector.Record, report func(stage, class string, err error)) (connector.Record, bool, error) {
	for _, s := range c.stages {
		if s.pred != nil && s.pred.Test(r) == s.negate {
			continue
		}
		var out connector.Record
		var keep bool
		ok, err := op.do(ctx, StageTransformation, s.class, func() error {
			var err error
			out, keep, err = s.tf.Apply(r)
			return err
		}, report)
		if err != nil || !ok {
			return r, false, err
		}
		if !keep {
			return r, false, nil
		}
		r = out
	}
	return r, true, nil
}

func (c *chain) close() {
	for _, s := range c.stages {
		s.tf.Close()
	}
}

// headerBytes serializes a header value as Kafka's SimpleHeaderConverter
// does for the common cases: strings as UTF-8, bytes as they are, numbers
// and booleans as their text, other values as JSON.
func headerBytes(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(x)
	case []byte:
		return x
	case bool:
		return []byte(strconv.FormatBool(x))
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		return []byte(fmt.Sprint(x))
	case float32:
		return []byte(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		return []byte(strconv.FormatFloat(x, 'g', -1, 64))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}

// tolerance is Kafka's RetryWithToleranceOperator: an operation failing
// with a retriable error is retried with exponential backoff until
// errors.retry.timeout; a final failure is logged when errors.log.enable,
// reported (the sink's dead letter queue), and either skipped
// (errors.tolerance=all) or fails the task.
type tolerance struct {
	cfg     ConnectorConfig
	id      TaskID
	log     *slog.Logger
	sleep   func(ctx context.Context, d time.Duration) error
	skipped int64
	// subject describes the record being processed, for
	// errors.log.include.messages; set by the task loop (nil = none).
	subject func() string
}

// errToleranceExceeded fails a task whose errors are not tolerated.
var errToleranceExceeded = errors.New("Tolerance exceeded in error handler")

// do runs fn for stage. It returns ok=false with a nil error when the
// failure is tolerated (skip the record), and an error wrapping
// errToleranceExceeded when it is not.
func (t *tolerance) do(ctx context.Context, stage, class string, fn func() error, report func(stage, class string, err error)) (bool, error) {
	start := time.Now()
	delay := 300 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return true, nil
		}
		if errors.Is(err, connector.ErrRetriable) && t.cfg.ErrorsRetryTimeout != 0 &&
			(t.cfg.ErrorsRetryTimeout < 0 || time.Since(start)+delay <= t.cfg.ErrorsRetryTimeout) {
			if serr := t.sleep(ctx, delay); serr != nil {
				return false, serr
			}
			delay *= 2
			if t.cfg.ErrorsRetryMaxDelay > 0 && delay > t.cfg.ErrorsRetryMaxDelay {
				delay = t.cfg.ErrorsRetryMaxDelay
			}
			continue
		}
		if t.cfg.ErrorsLogEnable {
			attrs := []any{"task", t.id.String(), "stage", stage, "class", class, "tolerated", t.cfg.ErrorsToleranceAll, "err", err}
			if t.cfg.ErrorsLogIncludeMessages && t.subject != nil {
				attrs = append(attrs, "record", t.subject())
			}
			t.log.Error("error encountered in task", attrs...)
		}
		if report != nil {
			report(stage, class, err)
		}
		if t.cfg.ErrorsToleranceAll {
			t.skipped++
			return false, nil
		}
		return false, fmt.Errorf("%w: executing stage '%s' with class '%s': %w", errToleranceExceeded, stage, class, err)
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sourceRecordForLog describes a source record for
// errors.log.include.messages: key, value, headers, timestamp, topic,
// partition, source partition and offset.
func sourceRecordForLog(r connector.SourceRecord) string {
	hs := map[string]any{}
	for _, h := range r.Headers {
		hs[h.Key] = logValue(h.Value)
	}
	b, _ := json.Marshal(map[string]any{"topic": r.Topic, "partition": r.Partition, "key": logValue(r.Key), "value": logValue(r.Value),
		"headers": hs, "timestamp": r.Timestamp, "source_partition": r.SourcePartition, "source_offset": r.SourceOffset})
	return string(b)
}

func logValue(v any) any {
	if b, ok := v.([]byte); ok {
		return base64.StdEncoding.EncodeToString(b)
	}
	return v
}
