package spencerclient

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by errors for a userlist that upstream does not know (404 or 403).
var ErrNotFound = errors.New("spencer: userlist not found")

// StatusError is an unexpected HTTP status from the publications endpoint.
type StatusError struct {
	Status int
	Body   string // start of the body, for the log; never holds a credential we sent
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("spencer: publications: status %d", e.Status)
	}
	return fmt.Sprintf("spencer: publications: status %d: %s", e.Status, e.Body)
}

// NotFoundError is a userlist upstream does not know; errors.Is(err, ErrNotFound) holds.
type NotFoundError struct {
	UserListID string
	Status     int
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("spencer: userlist %s not found (status %d)", e.UserListID, e.Status)
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// UnauthorizedError is a 401 that persisted after one token renewal and retry.
type UnauthorizedError struct {
	Body string
}

func (e *UnauthorizedError) Error() string {
	if e.Body == "" {
		return "spencer: unauthorized after token renewal"
	}
	return "spencer: unauthorized after token renewal: " + e.Body
}

// TokenError is a failure of the token endpoint. It carries the HTTP status (0 when no
// answer came at all) and the error text upstream gave, never the client secret.
type TokenError struct {
	Status      int
	Code        string // OAuth2 "error", when upstream sent one
	Description string // OAuth2 "error_description", or the start of the body
	Err         error  // the transport error when there was no answer
}

func (e *TokenError) Error() string {
	switch {
	case e.Status == 0 && e.Err != nil:
		return "spencer: token endpoint: " + e.Err.Error()
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("spencer: token endpoint: status %d: %s: %s", e.Status, e.Code, e.Description)
	case e.Code != "":
		return fmt.Sprintf("spencer: token endpoint: status %d: %s", e.Status, e.Code)
	case e.Description != "":
		return fmt.Sprintf("spencer: token endpoint: status %d: %s", e.Status, e.Description)
	}
	return fmt.Sprintf("spencer: token endpoint: status %d", e.Status)
}

func (e *TokenError) Unwrap() error { return e.Err }

// DecodeError is a publications body that is not JSON of a shape the decoder accepts.
type DecodeError struct {
	Err error
}

func (e *DecodeError) Error() string { return "spencer: undecodable publications: " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// TooLargeError is a body larger than the client's limit; it was not read past the limit.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("spencer: publications body larger than %d bytes", e.Limit)
}
