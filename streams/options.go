package streams

import "fmt"

// Option configures a DSL operation: its name, serdes, the store that
// materializes it. Options that do not apply to an operation are ignored.
type Option func(*options)

type options struct {
	name        string
	storeName   string
	storeOpts   []StoreOption
	keySerde    any
	valueSerde  any
	otherSerde  any
	stores      []string
	partitioner any
	tsx         TimestampExtractor
	retention   int64 // ms; 0 = default
	partitions  int32
	// materialized is set by Materialized and WithStoreOptions: Kafka's
	// count burns an extra index for a Materialized without a name.
	materialized bool
}

func applyOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Named names the operation's processor (and, where Kafka derives them,
// its internal topics and stores), as Kafka's Named.as.
func Named(name string) Option { return func(o *options) { o.name = name } }

// Materialized names the store backing a stateful operation (which also
// fixes its changelog topic <application.id>-<name>-changelog and, for
// grouped aggregations, the repartition topic) and configures it.
func Materialized(storeName string, storeOpts ...StoreOption) Option {
	return func(o *options) {
		o.storeName, o.materialized = storeName, true
		o.storeOpts = append(o.storeOpts, storeOpts...)
	}
}

// WithStoreOptions configures the store of a stateful operation without
// naming it.
func WithStoreOptions(storeOpts ...StoreOption) Option {
	return func(o *options) {
		o.materialized = true
		o.storeOpts = append(o.storeOpts, storeOpts...)
	}
}

// WithKeySerde sets the key serde a stateful step or repartition uses,
// overriding the one known upstream.
func WithKeySerde[K any](s Serde[K]) Option { return func(o *options) { o.keySerde = s } }

// WithValueSerde sets the value serde (for aggregations: the aggregate's
// serde) a stateful step uses.
func WithValueSerde[V any](s Serde[V]) Option { return func(o *options) { o.valueSerde = s } }

// WithOtherValueSerde sets the serde of the other side's values in a
// stream-stream join.
func WithOtherValueSerde[V any](s Serde[V]) Option { return func(o *options) { o.otherSerde = s } }

// WithStores connects existing state stores (added with
// Builder.AddStateStore) to a Process step.
func WithStores(names ...string) Option {
	return func(o *options) { o.stores = append(o.stores, names...) }
}

// WithPartitioner sets a StreamPartitioner for To or Repartition.
func WithPartitioner[K, V any](p StreamPartitioner[K, V]) Option {
	return func(o *options) { o.partitioner = p }
}

// WithTimestampExtractor sets the timestamp extractor of a source.
func WithTimestampExtractor(x TimestampExtractor) Option { return func(o *options) { o.tsx = x } }

// WithNumPartitions sets the partition count of a Repartition topic.
func WithNumPartitions(n int32) Option { return func(o *options) { o.partitions = n } }

// StreamPartitioner chooses the partition of a record written to topic,
// given the topic's partition count; ok false leaves it to the default
// partitioner.
type StreamPartitioner[K, V any] func(topic string, key K, value V, numPartitions int32) (partition int32, ok bool)

// TopicNameExtractor chooses the topic of each record written by
// ToExtractor.
type TopicNameExtractor[K, V any] func(key K, value V, rc RecordContext) string

// serdeOr returns the option's serde if set (checking its type), else
// fallback; a missing serde is a builder error naming what needs it.
func serdeOr[T any](b *Builder, opt any, fallback Serde[T], what string) Serde[T] {
	if opt != nil {
		s, ok := opt.(Serde[T])
		if !ok {
			var zero T
			b.fail("%s: serde %T does not serialize %T", what, opt, zero)
			return nil
		}
		return s
	}
	if fallback == nil {
		var zero T
		b.fail("%s: no serde for %T; pass one with WithKeySerde/WithValueSerde", what, zero)
	}
	return fallback
}

func partitionerOf[K, V any](b *Builder, p any, what string) StreamPartitioner[K, V] {
	if p == nil {
		return nil
	}
	sp, ok := p.(StreamPartitioner[K, V])
	if !ok {
		b.fail("%s: partitioner %T does not take %s", what, p, fmt.Sprintf("%T", sp))
		return nil
	}
	return sp
}
