// Package file holds the FileStreamSource and FileStreamSink connectors,
// Runnel's counterparts of Kafka's org.apache.kafka.connect.file connectors,
// registered under the same class names (and the aliases FileStreamSource
// and FileStreamSink) by Register.
//
// FileStreamSource reads a file (standard input when "file" is unset) line by
// line into "topic", at most batch.size lines per poll, and keeps tailing it
// as it grows; a file that does not exist yet is waited for. Its one source
// partition is {"filename": F} and its offset {"position": P}, P being the
// byte position just after the last line produced (Kafka counts UTF-16
// characters there, which breaks resuming after multi-byte lines; Runnel
// counts bytes). Lines end at "\n", "\r\n" or "\r".
//
// FileStreamSink appends each record's value and a newline to a file
// (standard output when "file" is unset). It buffers writes and flushes and
// syncs them before the runtime commits offsets, so every committed record
// is in the file: at-least-once.
package file

import (
	"fmt"

	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/connector"
)

// Class names of the connectors.
const (
	SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	SinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// Version is the version the connectors report.
const Version = "3.9.0"

// Register adds FileStreamSource and FileStreamSink to r.
func Register(r *connect.Registry) error {
	if err := r.RegisterConnector(SourceClass, func() connector.Connector { return NewSource() }); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	if err := r.RegisterConnector(SinkClass, func() connector.Connector { return NewSink() }); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	return nil
}
