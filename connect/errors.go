package connect

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors a Herder's failures wrap; the REST API answers them with
// the HTTP status Kafka Connect uses.
var (
	// ErrNotFound: an unknown connector, task, plugin or logger (404).
	ErrNotFound = errors.New("connect: not found")
	// ErrConflict: the connector already exists, or a rebalance or a
	// concurrent change is in progress (409).
	ErrConflict = errors.New("connect: conflict")
	// ErrBadRequest: an invalid configuration or request (400).
	ErrBadRequest = errors.New("connect: bad request")
	// ErrStopped: the worker or herder has been closed.
	ErrStopped = errors.New("connect: stopped")
)

// Error is a request failure with the HTTP status Kafka Connect answers it
// with and the message it prints ({"error_code":Status,"message":Message}).
// It unwraps to ErrNotFound, ErrConflict or ErrBadRequest by status.
type Error struct {
	Status  int    // HTTP status and error_code
	Message string // as Kafka words it, e.g. "Connector foo not found"
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel matching the status.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest:
		return ErrBadRequest
	}
	return nil
}

// Errorf returns an *Error with the given HTTP status.
func Errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// notFoundf, badRequestf and conflictf are the common cases.
func notFoundf(format string, args ...any) error {
	return Errorf(http.StatusNotFound, format, args...)
}

func badRequestf(format string, args ...any) error {
	return Errorf(http.StatusBadRequest, format, args...)
}

func conflictf(format string, args ...any) error {
	return Errorf(http.StatusConflict, format, args...)
}

// NotLeaderError reports that a request must be served by the group's
// leader. The REST API forwards the request to URL with forward=false, as
// Kafka Connect does; an empty URL means no leader is known (a rebalance is
// under way) and is answered 409.
type NotLeaderError struct {
	URL string // the leader's REST URL, e.g. http://10.0.0.2:8083
}

func (e *NotLeaderError) Error() string {
	if e.URL == "" {
		return "connect: not the leader, and no leader is known"
	}
	return "connect: not the leader; the leader is " + e.URL
}

// Unwrap makes a NotLeaderError an ErrConflict when it cannot be forwarded.
func (e *NotLeaderError) Unwrap() error { return ErrConflict }

// StatusCode returns the HTTP status for err: the status of an *Error, 409
// for ErrConflict, 404 for ErrNotFound, 400 for ErrBadRequest, 500
// otherwise.
func StatusCode(err error) int {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Status
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
