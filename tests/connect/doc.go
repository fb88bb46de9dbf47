// Package connect holds end-to-end tests of Runnel's Connect worker: real
// `runnel server` processes built from this checkout, with the embedded
// distributed worker driven over its REST API, FileStreamSource and
// FileStreamSink moving files through topics, and processes killed with
// SIGKILL and restarted. Everything listens on 127.0.0.1.
package connect
