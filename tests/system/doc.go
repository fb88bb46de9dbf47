// Package system holds cross-process tests: real `runnel server` processes
// built from this checkout, driven by a Kafka client and killed or
// restarted from outside, on 127.0.0.1 only.
package system
