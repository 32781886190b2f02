package flyfake

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// controlHandler serves the fake's own endpoints. They sit outside /v1, need
// no token and are not validated: they are for tests and for people poking
// at the standalone fake.
//
//	GET    /__fake/state                State
//	GET    /__fake/calls                Calls
//	DELETE /__fake/calls                ResetCalls
//	GET    /__fake/violations           Violations
//	GET    /__fake/response-violations  ResponseViolations
//	GET    /__fake/faults               Faults
//	POST   /__fake/faults               SetFaults, body: Faults as JSON
func (f *Fake) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__fake/state", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, f.State())
	})
	mux.HandleFunc("GET /__fake/calls", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, f.Calls())
	})
	mux.HandleFunc("DELETE /__fake/calls", func(w http.ResponseWriter, _ *http.Request) {
		f.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	})
	for path, list := range map[string]func() []Violation{
		"GET /__fake/violations":          f.Violations,
		"GET /__fake/response-violations": f.ResponseViolations,
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, append([]Violation{}, list()...)) // [] rather than null
		})
	}
	mux.HandleFunc("GET /__fake/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, f.Faults())
	})
	mux.HandleFunc("POST /__fake/faults", func(w http.ResponseWriter, r *http.Request) {
		var fl Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fl); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("faults: %v", err)})
			return
		}
		if err := f.SetFaults(fl); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, fl)
	})
	return mux
}
