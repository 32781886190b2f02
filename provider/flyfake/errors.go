package flyfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is a failure answered the way Fly answers one: an HTTP status and
// the body {"error": msg, "status": code}. Handlers return it as their error;
// the strict server's response error handler writes it.
type apiError struct {
	code   int
	msg    string
	status string // Fly's machine-readable status (name_taken, insufficient_capacity); optional
}

func (e *apiError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// errorBody is Fly's ErrorResponse, reduced to what the fake sends.
type errorBody struct {
	Error  string `json:"error"`
	Status string `json:"status,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err as Fly would: an *apiError with its status, anything
// else as a 500.
func writeError(w http.ResponseWriter, err error) {
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		apiErr = &apiError{code: http.StatusInternalServerError, msg: err.Error()}
	}
	writeJSON(w, apiErr.code, errorBody{Error: apiErr.msg, Status: apiErr.status})
}
