package streams

import "strings"

// DeserializationResponse is a DeserializationExceptionHandler's decision
// about an input record its source could not decode.
type DeserializationResponse int

const (
	// DeserializationFail stops the task with the decoding error; the
	// record's offset is not committed, so it is read again after the
	// application is fixed and restarted.
	DeserializationFail DeserializationResponse = iota
	// DeserializationContinue skips the record: it is logged, counted as a
	// dropped record (reason "deserialization error") and its offset is
	// committed with the records around it.
	DeserializationContinue
)

// DeserializationContext describes the record a source could not decode.
type DeserializationContext struct {
	// TaskID is the task whose source read the record.
	TaskID TaskID
	// Node is the name of the source node.
	Node      string
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64
	// Key and Value are the record's raw bytes; they must not be kept after
	// the handler returns.
	Key, Value []byte
	Headers    Headers
}

// DeserializationExceptionHandler decides what becomes of an input record
// whose key or value the source's serdes reject: Kafka Streams'
// DeserializationExceptionHandler. A handler runs on the task's goroutine
// and must not block. default.deserialization.exception.handler
type DeserializationExceptionHandler func(ctx DeserializationContext, err error) DeserializationResponse

// LogAndFail is the default handler: the task fails with the error.
func LogAndFail(DeserializationContext, error) DeserializationResponse {
	return DeserializationFail
}

// LogAndContinue skips every record that cannot be decoded.
func LogAndContinue(DeserializationContext, error) DeserializationResponse {
	return DeserializationContinue
}

// DeserializationHandlerByName returns the built-in handler named by a
// Kafka class name or its simple name: LogAndFailExceptionHandler or
// LogAndContinueExceptionHandler.
func DeserializationHandlerByName(name string) (DeserializationExceptionHandler, bool) {
	switch name[strings.LastIndex(name, ".")+1:] {
	case "LogAndFailExceptionHandler":
		return LogAndFail, true
	case "LogAndContinueExceptionHandler":
		return LogAndContinue, true
	}
	return nil, false
}
