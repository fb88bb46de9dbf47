package state

// ChangelogRecord is one write to a store as it goes to the store's
// changelog topic: the store key bytes (for window and session stores in
// Kafka's store-key format), the value bytes or nil for a delete
// (a tombstone), and the timestamp of the record being processed.
type ChangelogRecord struct {
	Key       []byte
	Value     []byte
	Timestamp int64
}
