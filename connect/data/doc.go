// Package data is Runnel Connect's data model: schemas, structs and the
// validation of values against schemas. It mirrors Kafka Connect's
// org.apache.kafka.connect.data so that records a Runnel connector produces
// carry the same shape, and serialize to the same bytes through a converter,
// as those of a Java connector.
//
// A Schema has a Type (TypeInt8 … TypeStruct) and, for the container types,
// the schemas of its elements, keys and values or fields. Schemas are built
// with a Builder (NewBuilder, StructBuilder, ArrayBuilder, MapBuilder) or, for
// primitives, with Required and Optional. A Schema is treated as immutable once
// built: share it, never change it.
//
// Go values for each schema type:
//
//	int8, int16, int32, int64   TypeInt8 … TypeInt64
//	float32, float64            TypeFloat32, TypeFloat64
//	bool                        TypeBoolean
//	string                      TypeString
//	[]byte                      TypeBytes
//	[]any                       TypeArray
//	map[any]any or map[string]any  TypeMap (keys must be comparable Go values)
//	*Struct                     TypeStruct
//
// The logical types Decimal, Date, Time and Timestamp are identified, as in
// Kafka, by their schema name (DecimalName, DateName, TimeName, TimestampName);
// their Go values are Decimal and time.Time.
//
// Schemaless data (a record whose schema is nil) uses the same Go values, with
// map[string]any for objects, and also int, float and json.Number-free numbers
// as a JSON decoder produces them (int64 and float64).
package data
