package streams

// windowing builds a windowed aggregation for a GroupedStream whose key
// type is Windowed of the inner key; it captures the inner key type.
type windowing struct {
	// build adds the aggregation processor and its store below parent and
	// returns the output key serde (a Serde[Windowed[K]]).
	build func(b *Builder, spec aggSpec, procName, storeName string, aggSerde erasedSerde, parent string, storeOpts []StoreOption) any
}
